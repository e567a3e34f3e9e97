// `modelsign witness` as a process, on its embedded database: `witness vkey` prints its
// cosignature/v1 vkey; `witness` serves add-checkpoint and stops on SIGTERM (exit 0);
// `set-log-key` changes a pinned key (exit 2 for a vkey of another origin or an unknown log), and
// a start with a key other than the pinned one exits 2 naming set-log-key; its data folder
// restored from an older copy exits 9 naming the log and both sizes.
// Runs once: the witness's storage is tested on both databases by test/server/witness-mode.test.ts.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NOTE_TYPE, parseVkey } from '../../src/core/tlog/vkey.ts';
import { runCliAsync, startService } from '../support/process.ts';
import { addCheckpoint } from '../support/witness-mode.ts';
import { WitnessTestLog } from '../support/witness-log.ts';

describe('modelsign witness (the command)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'modelsign-witness-cli-'));
  const log = new WitnessTestLog('log.example.org/cli', 0x41);
  const rekeyed = new WitnessTestLog('log.example.org/cli', 0x42);
  const logsFile = path.join(dir, 'logs.policy');
  const env = () => ({ MODELSIGN_DATA_DIR: path.join(dir, 'data'), MODELSIGN_WITNESS_NAME: 'witness.cli.test', MODELSIGN_WITNESS_LOGS: logsFile });
  before(async () => {
    await log.serve();
    writeFileSync(logsFile, `# the logs this witness witnesses\nlog ${log.vkey} ${log.url}\n`);
  });
  after(async () => {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints its vkey, serves add-checkpoint, and stops on SIGTERM', async () => {
    const printed = await runCliAsync(['witness', 'vkey'], env());
    assert.equal(printed.status, 0, printed.stderr);
    const vkey = parseVkey(printed.stdout.trim());
    assert.deepEqual([vkey.name, vkey.type], ['witness.cli.test', NOTE_TYPE.cosignatureV1]);
    log.served = await log.note(0);
    const w = await startService(env(), 30_000, ['witness']);
    try {
      const health = (await (await fetch(`${w.base}/healthz`)).json()) as { vkey: string; waiting: string[] };
      assert.deepEqual(health, { status: 'ok', vkey: printed.stdout.trim(), waiting: [] });
      const answer = await addCheckpoint(w.base, await log.request(0, 12));
      assert.equal(answer.status, 200, answer.text);
      log.served = `${await log.note(12)}${answer.text}`;
    } finally {
      assert.equal(await w.stop('SIGTERM'), 0, w.output());
    }
    assert.doesNotMatch(w.output(), /Deprecation|\bwarning\b/i, 'nothing on stderr a user would take for a problem');
  });

  it('exits 9 when its data folder is restored from an older copy, naming the log and both sizes', async () => {
    cpSync(path.join(dir, 'data'), path.join(dir, 'backup'), { recursive: true });
    const w = await startService(env(), 30_000, ['witness']);
    try {
      const answer = await addCheckpoint(w.base, await log.request(12, 40));
      assert.equal(answer.status, 200, answer.text);
      log.served = `${await log.note(40)}${answer.text}`;
    } finally {
      await w.stop('SIGTERM');
    }
    rmSync(path.join(dir, 'data'), { recursive: true });
    cpSync(path.join(dir, 'backup'), path.join(dir, 'data'), { recursive: true });
    const refused = await runCliAsync(['witness'], { ...env(), PORT: '0', HOST: '127.0.0.1' });
    assert.equal(refused.status, 9, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /log\.example\.org\/cli of size 40 cosigned by this witness, but its database holds 12/);
  });

  it('changes a pinned log key only with set-log-key; another key configured exits 2', async () => {
    writeFileSync(logsFile, `log ${rekeyed.vkey} ${log.url}\n`);
    const start = await runCliAsync(['witness'], { ...env(), PORT: '0', HOST: '127.0.0.1' });
    assert.equal(start.status, 2, start.stdout + start.stderr);
    assert.match(start.stderr, /witness set-log-key log\.example\.org\/cli/);
    assert.equal((await runCliAsync(['witness', 'set-log-key', 'other.example.org/log', rekeyed.vkey], env())).status, 2);
    const changed = await runCliAsync(['witness', 'set-log-key', log.origin, rekeyed.vkey], env());
    assert.equal(changed.status, 0, changed.stderr);
    assert.match(changed.stdout, /is now witnessed with log\.example\.org\/cli\+/);
  });
});
