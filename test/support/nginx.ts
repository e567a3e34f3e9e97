// Debian's nginx serving a folder with the README's configuration (examples/nginx/nginx.conf),
// started as `nginx -p DIR -c DIR/nginx.conf` on a free loopback port. Tests skip, saying why,
// where nginx is missing, unless MODELSIGN_TEST_REQUIRE_NGINX=1 (.ci/run), where they fail instead.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './process.ts';

const NGINX = '/usr/sbin/nginx';
const hasNginx = spawnSync(NGINX, ['-v'], { stdio: 'ignore' }).status === 0;

export const nginxSkip: string | false = hasNginx || process.env.MODELSIGN_TEST_REQUIRE_NGINX === '1' ? false : 'nginx is not installed (apt-get install nginx-light; .ci/run installs it)';

/** Serves `root` (which nginx's workers, run as nobody when the test runs as root, must be able to read). */
export async function startNginx(root: string): Promise<{ url: string; stop(): void }> {
  const prefix = mkdtempSync(path.join(tmpdir(), 'modelsign-nginx-'));
  mkdirSync(path.join(prefix, 'tmp'));
  const port = await freePort();
  const conf = readFileSync(new URL('../../examples/nginx/nginx.conf', import.meta.url), 'utf8')
    .replace('listen 127.0.0.1:8080;', `listen 127.0.0.1:${port};`)
    .replace('root mirror;', `root ${root};`);
  writeFileSync(path.join(prefix, 'nginx.conf'), conf);
  // A folder from mkdtemp is 0700: the workers could not enter it.
  for (let dir = root; dir !== path.dirname(dir) && dir.startsWith(tmpdir() + path.sep); dir = path.dirname(dir)) chmodSync(dir, 0o755);
  const started = spawnSync(NGINX, ['-p', prefix, '-c', path.join(prefix, 'nginx.conf')], { encoding: 'utf8' });
  if (started.status !== 0) throw new Error(`nginx did not start: ${started.stderr}`);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 50; i++) {
    if (await fetch(`${url}/checkpoint`).then(() => true, () => false)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    stop: () => {
      spawnSync(NGINX, ['-p', prefix, '-c', path.join(prefix, 'nginx.conf'), '-s', 'stop'], { stdio: 'ignore' });
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}
