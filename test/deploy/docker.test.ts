// The Dockerfile and docker-compose.yml, parsed and checked (multi-stage,
// non-root, read-only root file system, health checks, secrets only from files, no secret in
// any file), the README's production commands against them, the secrets script run as the
// README says, and the service itself run the way the image runs it: as an unprivileged user,
// from files it cannot write, configured from secret files. (No Docker engine runs on the
// machines this suite runs on, so the image itself is not built here.)
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DockerfileParser } from 'dockerfile-ast';
import { parse } from 'yaml';
import { parseKek } from '../../src/services/key-backends/kek.ts';
import { createPostgresDatabase, TEST_DB } from '../support/db.ts';
import { BIN, freePort } from '../support/process.ts';

const read = (f: string) => readFileSync(f, 'utf8');
type Service = {
  image?: string;
  build?: unknown;
  user?: string;
  read_only?: boolean;
  tmpfs?: string[];
  healthcheck?: { test: string[] };
  environment?: Record<string, string>;
  secrets?: string[];
  volumes?: string[];
  cap_drop?: string[];
  security_opt?: string[];
  ports?: string[];
  command?: string[];
  profiles?: string[];
  stop_grace_period?: string;
};
const compose = parse(read('docker-compose.yml')) as { services: Record<string, Service>; secrets: Record<string, { file: string }>; volumes: Record<string, unknown> };

// Looks like a secret value: a 32-byte key in base64 or hex, a JWT, a password in a URL, a PEM.
const SECRET_LIKE = [/\b[A-Za-z0-9+/]{43}=/, /\b[0-9a-f]{64}\b/i, /eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/, /postgres(ql)?:\/\/[^:\s/]+:[^@\s$]+@/, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, /(PASSWORD|KEK|TOKEN|SECRET)\s*[:=]\s*["']?[A-Za-z0-9+/=_-]{8,}/];

describe('Dockerfile', () => {
  const file = DockerfileParser.parse(read('Dockerfile'));
  const froms = file.getFROMs();
  const finalStart = froms.at(-1)!.getRange().start.line;
  const final = file.getInstructions().filter((i) => i.getRange().start.line >= finalStart);

  it('is multi-stage, and the final stage runs as a non-root user with a health check', () => {
    assert.ok(froms.length >= 2, 'a build stage and a runtime stage');
    assert.ok(final.some((i) => i.getKeyword() === 'COPY' && /--from=build/.test(i.getTextContent())), 'the runtime copies from the build stage');
    const users = final.filter((i) => i.getKeyword() === 'USER');
    assert.equal(users.length, 1);
    const user = users[0]!.getArgumentsContent()!.split(':')[0]!;
    assert.ok(!['root', '0'].includes(user), `USER ${user}`);
    const lastUserLine = users[0]!.getRange().start.line;
    assert.ok(!final.some((i) => i.getKeyword() === 'RUN' && i.getRange().start.line > lastUserLine), 'nothing runs as root after USER');
    const health = final.find((i) => i.getKeyword() === 'HEALTHCHECK');
    assert.ok(health && /healthz/.test(health.getTextContent()), 'HEALTHCHECK on /healthz');
    assert.match(final.find((i) => i.getKeyword() === 'ENTRYPOINT')!.getTextContent(), /bin\/modelsign\.js/);
    assert.match(final.find((i) => i.getKeyword() === 'CMD')!.getTextContent(), /serve/);
    assert.ok(!file.getInstructions().some((i) => i.getKeyword() === 'ADD'), 'no ADD (no remote fetches, no archive surprises)');
  });

  it('copies only what runs, and nothing it copies is secret', () => {
    const copied = final.filter((i) => i.getKeyword() === 'COPY').map((i) => i.getArgumentsContent()!);
    assert.ok(!copied.some((c) => /\b(test|bench|\.env|secrets|data)\b/.test(c)), copied.join('\n'));
    const ignore = read('.dockerignore').split('\n');
    for (const entry of ['node_modules', '.env', 'secrets', 'data', '.git', 'test']) assert.ok(ignore.includes(entry), `.dockerignore leaves out ${entry}`);
    const env = file.getInstructions().filter((i) => i.getKeyword() === 'ENV').map((i) => i.getArgumentsContent()!).join(' ');
    assert.ok(!/DATABASE_URL=|MODELSIGN_KEK=/.test(env), 'no database URL or KEK baked into the image');
  });
});

describe('docker-compose.yml', () => {
  const svc = compose.services.modelsign!;
  it('runs the service as a non-root user on a read-only root file system, without capabilities, with a health check', () => {
    assert.ok(svc.user && !/^(0|root)(:|$)/.test(svc.user), `user ${svc.user}`);
    assert.equal(svc.read_only, true);
    assert.ok(svc.tmpfs?.some((t) => t.startsWith('/tmp')), 'a tmpfs for /tmp');
    assert.deepEqual(svc.cap_drop, ['ALL']);
    assert.ok(svc.security_opt?.includes('no-new-privileges:true'));
    assert.match(svc.healthcheck!.test.join(' '), /readyz/);
    assert.ok(svc.ports?.every((p) => p.startsWith('127.0.0.1:')), 'published on loopback only');
    assert.ok(compose.services.postgres!.healthcheck, 'PostgreSQL has a health check');
  });

  it('takes the database URL and the KEK from secret files; the database keeps its data on a volume', () => {
    const env = svc.environment!;
    assert.equal(env.DATABASE_URL_FILE, '/run/secrets/database_url');
    assert.equal(env.MODELSIGN_KEK_FILE, '/run/secrets/modelsign_kek');
    assert.ok(!('DATABASE_URL' in env) && !('MODELSIGN_KEK' in env));
    assert.deepEqual([...svc.secrets!].sort(), ['database_url', 'modelsign_kek']);
    assert.equal(compose.services.postgres!.environment!.POSTGRES_PASSWORD_FILE, '/run/secrets/pg_password');
    assert.ok(!('POSTGRES_PASSWORD' in compose.services.postgres!.environment!));
    for (const s of Object.values(compose.secrets)) assert.match(s.file, /^\.\/secrets\//);
    assert.ok(compose.services.postgres!.volumes!.some((v) => v.startsWith('pgdata:')) && 'pgdata' in compose.volumes);
    // Every variable given to the service is one the service documents.
    const readme = read('README.md');
    for (const name of Object.keys(env)) assert.ok(readme.includes(`\`${name}\``), `${name} is documented in README.md`);
  });

  it('mounts the model store read-only for the audit job', () => {
    const audit = compose.services.audit!;
    assert.deepEqual(audit.profiles, ['audit']);
    assert.ok(audit.volumes!.every((v) => v.endsWith(':ro')), audit.volumes!.join());
    assert.equal(audit.read_only, true);
    assert.ok(audit.user && !/^(0|root)/.test(audit.user));
    assert.equal(audit.command![0], 'audit');
    assert.ok(audit.command!.includes('--server'));
  });

  it('no secret value is in the Dockerfile, the compose file, .env.example or the README', () => {
    for (const f of ['Dockerfile', 'docker-compose.yml', 'docker-compose.pkcs11.yml', '.env.example', 'README.md', '.dockerignore']) {
      const text = read(f);
      for (const re of SECRET_LIKE) assert.ok(!re.test(text), `${f} holds something that looks like a secret (${re}): ${text.match(re)?.[0]}`);
    }
  });
});

describe('docker-compose.pkcs11.yml', () => {
  const variant = parse(read('docker-compose.pkcs11.yml')) as { services: Record<string, Service & { build?: { args?: Record<string, string> } }>; secrets: Record<string, { file: string }>; volumes: Record<string, unknown> };
  const svc = variant.services.modelsign!;
  it('layers the PKCS#11 backend over the service: the token by label, the module, the PIN from a secret file only', () => {
    assert.deepEqual(Object.keys(variant.services), ['modelsign'], 'it only changes the service');
    const env = svc.environment!;
    assert.equal(env.MODELSIGN_KEY_BACKEND, 'pkcs11');
    assert.match(env.MODELSIGN_PKCS11_URI!, /^pkcs11:token=[^;?]+$/);
    assert.match(env.MODELSIGN_PKCS11_MODULE!, /^\//);
    assert.equal(env.MODELSIGN_PKCS11_PIN_FILE, '/run/secrets/hsm_pin');
    assert.ok(!Object.keys(env).some((k) => k === 'MODELSIGN_PKCS11_PIN'), 'no PIN in the environment');
    assert.ok(svc.secrets!.includes('hsm_pin') && svc.secrets!.includes('modelsign_kek') && svc.secrets!.includes('database_url'));
    assert.match(variant.secrets.hsm_pin!.file, /^\.\/secrets\//);
    assert.ok(svc.volumes!.some((v) => v.startsWith('softhsm:')) && 'softhsm' in variant.volumes);
    assert.equal(svc.build!.args!.PKCS11_PACKAGES, 'softhsm2');
    assert.match(read('Dockerfile'), /ARG PKCS11_PACKAGES=""/);
    // Every variable it sets is one the service reads (config.ts documents them all).
    for (const name of Object.keys(env)) assert.match(read('src/config.ts'), new RegExp(`'${name}'`), name);
    assert.match(read('README.md'), /docker-compose\.pkcs11\.yml/);
  });
});

describe('README "Production"', () => {
  const section = read('README.md').split('## Production')[1]!.split('\n## ')[0]!;
  const commands = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split('\n')).map((l) => l.replace(/\s+#.*$/, '').trim()).filter(Boolean);

  it('uses only services, profiles, files and modelsign commands that exist', () => {
    assert.ok(commands.length >= 10);
    for (const c of commands) {
      for (const m of c.matchAll(/docker compose (?:--profile (\S+) )?(?:run --rm (?:-v \S+ )?|exec -T |stop |start |up -d (?:--force-recreate )?)(\w+)/g)) {
        assert.ok(m[2]! in compose.services, `${c}: no service ${m[2]}`);
        if (m[1]) assert.deepEqual(compose.services[m[2]!]!.profiles, [m[1]]);
      }
      const sub = /run --rm (?:-v \S+ )?modelsign (admin \w+)/.exec(c);
      if (sub) {
        const help = spawnSync(process.execPath, [BIN, ...sub[1]!.split(' '), '--help'], { encoding: 'utf8' });
        assert.ok(/Usage/.test(help.stdout + help.stderr), `${sub[1]} is a modelsign command`);
        for (const flag of c.split(' ').filter((w) => w.startsWith('--') && !['--rm', '--profile', '--force-recreate', '--build', '--scale'].includes(w))) {
          assert.ok((help.stdout + help.stderr).includes(flag), `${sub[1]} takes ${flag}`);
        }
      }
      if (c.startsWith('scripts/')) assert.ok(statSync(c.split(' ')[0]!).mode & 0o100, `${c} is executable`);
    }
  });

  it('scripts/make-secrets.sh writes what docker-compose.yml reads: a private folder, a URL with the password, a valid KEK', () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'modelsign-secrets-')), 'secrets');
    try {
      const r = spawnSync('sh', ['scripts/make-secrets.sh', dir], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(statSync(dir).mode & 0o777, 0o700);
      for (const s of Object.values(compose.secrets)) assert.equal(statSync(path.join(dir, path.basename(s.file))).mode & 0o777, 0o444);
      const password = read(path.join(dir, 'pg_password')).trim();
      assert.match(password, /^[0-9a-f]{48}$/);
      assert.equal(read(path.join(dir, 'database_url')).trim(), `postgresql://modelsign:${password}@postgres:5432/modelsign`);
      assert.equal(parseKek(read(path.join(dir, 'modelsign_kek')), 'kek').key.length, 32);
      assert.notEqual(spawnSync('sh', ['scripts/make-secrets.sh', dir]).status, 0, 'never overwrites existing secrets');
    } finally {
      rmSync(path.dirname(dir), { recursive: true, force: true });
    }
  });
});

describe('the service as the image runs it', { skip: (TEST_DB !== 'postgres' && 'runs in the PostgreSQL pass') || (process.getuid?.() !== 0 && 'needs root to run as another user') }, () => {
  it('serves as an unprivileged user who can write nothing of the project, configured from secret files', { timeout: 90_000 }, async () => {
    const db = await createPostgresDatabase();
    const secrets = mkdtempSync(path.join(tmpdir(), 'modelsign-run-'));
    chmodSync(secrets, 0o755);
    // Trust authentication ignores the password; it is there to show it never reaches the logs.
    const withPassword = new URL(db.url);
    withPassword.password = 'canary-password-4f1e';
    writeFileSync(path.join(secrets, 'database_url'), `${withPassword}\n`, { mode: 0o444 });
    writeFileSync(path.join(secrets, 'modelsign_kek'), `${Buffer.alloc(32, 7).toString('base64')}\n`, { mode: 0o444 });
    const port = await freePort();
    // nobody owns nothing in the checkout; a write anywhere but /tmp would fail.
    // setpriv execs (runuser would stay as a parent and turn SIGTERM into its own death by signal).
    const child = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, 'serve'], {
      env: { PATH: process.env.PATH!, HOME: '/nonexistent', HOST: '127.0.0.1', PORT: String(port), DATABASE_URL_FILE: path.join(secrets, 'database_url'), MODELSIGN_KEK_FILE: path.join(secrets, 'modelsign_kek'), LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: '/',
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    try {
      let ready = 0;
      for (let i = 0; i < 300 && ready !== 200 && child.exitCode === null; i++) {
        ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status, () => 0);
        if (ready !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(ready, 200, out);
      assert.ok(!out.includes('canary-password-4f1e'), 'the database password is not logged');
      assert.match(out, /modelsign is ready/);
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)));
      assert.equal(code, 0, out);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(secrets, { recursive: true, force: true });
      await db.drop();
    }
  });
});
