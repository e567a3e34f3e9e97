// Two service processes sharing one PostgreSQL database and one PKCS#11 token (SoftHSM2), under
// signing load spread over both, while one of them rotates the release key: the other finds the
// new key's token object by its CKA_ID when the key change reaches it (the state poll), without a
// restart. SoftHSM2's file store shows one process the objects another made (checked here: the
// second instance signs with the new kid). Afterwards the log is gapless, every acknowledged
// bundle verifies, and nothing but 201 (or 503) was answered.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { keySet } from '../../src/core/keys/key-set.ts';
import { verifyBundle } from '../../src/core/verify-bundle.ts';
import { createPostgresDatabase } from '../support/db.ts';
import type { Service } from '../support/process.ts';
import { SOFTHSM_MODULE, softHsm, softHsmSkip, TOKEN_LABEL } from '../support/softhsm.ts';
import { assertGaplessLog, assertNoSecretsIn, countBy, deployment, signingLoad, sleep, type Deployment } from './support/harness.ts';
import { publishedKeys } from './support/log-client.ts';

const skip = softHsmSkip();

describe('two instances on one PKCS#11 token', { skip }, () => {
  let db: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let d: Deployment;
  before(async () => {
    const hsm = softHsm();
    db = await createPostgresDatabase();
    d = deployment(db.url, {
      MODELSIGN_KEY_BACKEND: 'pkcs11',
      MODELSIGN_PKCS11_URI: `pkcs11:token=${TOKEN_LABEL}`,
      MODELSIGN_PKCS11_MODULE: SOFTHSM_MODULE,
      MODELSIGN_PKCS11_PIN_FILE: hsm.pinFile,
      SOFTHSM2_CONF: process.env.SOFTHSM2_CONF!,
    });
  });
  after(async () => {
    for (const s of d?.services ?? []) await s.stop('SIGKILL');
    d?.saveLogs('hsm-instances');
    await db?.drop();
  });

  it('the instance that did not rotate signs with the new token key without a restart; gapless, every bundle verifies, no 5xx but 503', { timeout: 5 * 60_000 }, async () => {
    const a = await d.start();
    const b = await d.start();
    const instances: Service[] = [a, b];
    const { admin, publisher } = await d.acme(a);
    const before = (await publishedKeys(a.base)).find((k) => k.purpose === 'release' && k.algorithm === 'Ed25519' && k.status === 'active')!.kid;

    const load = signingLoad((w) => instances[w % 2]!.base, publisher, { concurrency: 16 });
    await sleep(2000);
    const rotated = await fetch(`${a.base}/v1/admin/keys/rotate`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ purpose: 'release', expectedActive: before }) });
    const rotatedAt = Date.now();
    const answer = await rotated.text();
    assert.equal(rotated.status, 200, answer);
    const next = (JSON.parse(answer) as { active: { kid: string } }).active.kid;
    await sleep(3000);
    await load.stop();

    const statuses = countBy(load.outcomes.map((o) => `${o.status}${o.code ? ` ${o.code}` : ''}`));
    const acked = load.acked();
    console.log(`# hsm-instances: ${load.outcomes.length} requests over 2 processes ${JSON.stringify(statuses)}; release key rotated on one`);
    assert.deepEqual(Object.keys(statuses).filter((s) => s !== '201' && s !== '503 key_backend_unavailable'), [], 'nothing but 201 (or 503)');

    // Every acknowledged bundle verifies; B signed with the new key soon after A rotated.
    await assertGaplessLog(db.url);
    const trust = keySet(await publishedKeys(a.base));
    const kidsByInstance = new Map<string, Map<string, number>>();
    let verified = 0;
    for (const o of acked) {
      const res = await fetch(`${o.base}/v1/signatures/${o.id}`);
      const { bundle, kid } = (await res.json()) as { bundle: unknown; kid: string };
      const verdict = verifyBundle(bundle, trust);
      assert.ok(verdict.valid, `${o.id}: ${JSON.stringify(verdict.reasons)}`);
      verified++;
      if (o.sentAt > rotatedAt + 1000) {
        const kids = kidsByInstance.get(o.base) ?? new Map<string, number>();
        kids.set(kid, (kids.get(kid) ?? 0) + 1);
        kidsByInstance.set(o.base, kids);
      }
    }
    assert.equal(verified, acked.length);
    for (const s of instances) {
      assert.deepEqual([...(kidsByInstance.get(s.base)?.keys() ?? [])], [next], `${s.base} signs with the new key a second after the rotation`);
    }
    await assertNoSecretsIn(d.logs(), db.url, d.kek, [admin, publisher]);
  });
});
