// A PKCS#11 token that goes away under signing load: through a wrapper around the binding that
// answers CKR_DEVICE_REMOVED, CKR_SESSION_HANDLE_INVALID or CKR_TOKEN_NOT_PRESENT for a window,
// and one real C_CloseAllSessions. Signing answers 503 key_backend_unavailable with Retry-After
// (never 500, never a hang), lookups and verification go on, readiness says so, signing resumes
// within 5 s of the window's end without a restart, and every acknowledged signature is kept.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CKR } from '../../src/services/key-backends/pkcs11/constants.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { codes, onlineVerdict } from '../support/keys.ts';
import { faultyModule, softHsmSkip, withTokenSession } from '../support/softhsm.ts';

const skip = softHsmSkip();

interface Outcome {
  status: number;
  at: number;
  id?: string;
  code?: string;
  retryAfter?: string | undefined;
}

describe('a PKCS#11 token that goes away under load', { skip }, () => {
  let t: TestApp;
  let fault: number | undefined;
  let token: string;
  let version = 0;
  before(async () => {
    t = await createTestApp({ keyBackend: 'pkcs11', wrapModule: faultyModule(() => fault) });
    token = await t.publisherToken('acme');
  });
  after(() => t?.close());

  /** Signs from `workers` loops until `stop()`; every answer with the time it came. */
  function load(workers: number) {
    const outcomes: Outcome[] = [];
    let running = true;
    const loops = Array.from({ length: workers }, async () => {
      while (running) {
        const res = await t.app.inject({ method: 'POST', url: '/v1/signatures', headers: { authorization: `Bearer ${token}` }, payload: { model: 'acme/m', version: `1.${version++}`, files: [{ path: 'w', sha256: 'a'.repeat(64), size: 1 }] } });
        const body = res.json() as { id?: string; code?: string };
        outcomes.push({ status: res.statusCode, at: performance.now(), id: body.id, code: body.code, retryAfter: res.headers['retry-after'] as string | undefined });
        if (res.statusCode === 503) await new Promise((r) => setTimeout(r, 20));
      }
    });
    return {
      outcomes,
      async stop() {
        running = false;
        await Promise.all(loops);
        return outcomes;
      },
    };
  }

  async function assertKept(outcomes: Outcome[]) {
    const signed = outcomes.filter((o) => o.status === 201);
    for (const o of signed) {
      const found = await t.app.inject({ method: 'GET', url: `/v1/signatures/${o.id}` });
      assert.equal(found.statusCode, 200, `acknowledged signature ${o.id} is kept`);
    }
    const last = await t.app.inject({ method: 'GET', url: `/v1/signatures/${signed.at(-1)!.id}` });
    assert.deepEqual(codes(await onlineVerdict(t, last.json().bundle)), []);
  }

  for (const [name, rv] of [
    ['CKR_DEVICE_REMOVED', CKR.DEVICE_REMOVED],
    ['CKR_SESSION_HANDLE_INVALID', CKR.SESSION_HANDLE_INVALID],
    ['CKR_TOKEN_NOT_PRESENT', CKR.TOKEN_NOT_PRESENT],
  ] as const) {
    it(`${name} for 1.5 s: 503 key_backend_unavailable meanwhile, reads and verification answer, signing back within 5 s`, async () => {
      const running = load(8);
      // A signature made under this load and already in a checkpoint, to look up and verify
      // inside the window (waited for, not assumed after a fixed delay: a busy machine signs later).
      let sample: { id: string } | undefined;
      for (let i = 0; i < 100 && !sample; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const listed = (await t.app.inject({ method: 'GET', url: '/v1/signatures?model=acme/m' })).json().items as { id: string }[];
        for (const s of listed.slice(-3)) {
          const record = (await t.app.inject({ method: 'GET', url: `/v1/signatures/${s.id}` })).json();
          if (record.bundle.verificationMaterial.tlogEntries.length > 0) sample = s;
        }
      }
      assert.ok(sample, 'a logged signature within 10 s');
      fault = rv;
      const windowStart = performance.now();
      await new Promise((r) => setTimeout(r, 500));
      // Inside the window: lookups, verification and readiness.
      const lookup = await t.app.inject({ method: 'GET', url: `/v1/signatures/${sample.id}` });
      assert.equal(lookup.statusCode, 200);
      assert.deepEqual(codes(await onlineVerdict(t, lookup.json().bundle)), []);
      const keys = await t.app.inject({ method: 'GET', url: '/v1/keys' });
      assert.equal(keys.statusCode, 200);
      const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
      assert.deepEqual([ready.statusCode, ready.json().signing, ready.json().checks.keys], [200, false, 'unavailable']);
      await new Promise((r) => setTimeout(r, 1000));
      fault = undefined;
      const windowEnd = performance.now();
      // Load goes on until a signature succeeds after the window, for at most 5 s.
      while (performance.now() - windowEnd < 5000 && !running.outcomes.some((o) => o.status === 201 && o.at > windowEnd)) await new Promise((r) => setTimeout(r, 20));
      const outcomes = await running.stop();

      assert.deepEqual([...new Set(outcomes.map((o) => o.status))].sort(), [201, 503], 'only 201 and 503');
      const refused = outcomes.filter((o) => o.status === 503);
      assert.ok(refused.every((o) => o.code === 'key_backend_unavailable' && o.retryAfter === '1'), JSON.stringify(refused.find((o) => o.code !== 'key_backend_unavailable')));
      assert.ok(refused.every((o) => o.at >= windowStart), 'no 503 before the window');
      const resumed = outcomes.find((o) => o.status === 201 && o.at > windowEnd);
      assert.ok(resumed, 'signing resumed');
      assert.ok(resumed.at - windowEnd < 5000, `signing resumed ${(resumed.at - windowEnd).toFixed(0)} ms after the window`);
      const back = await t.app.inject({ method: 'GET', url: '/readyz' });
      assert.deepEqual([back.json().signing, back.json().checks.keys], [true, 'ok']);
      await assertKept(outcomes);
      // The outage is logged once as it starts and once as it ends.
      assert.equal(t.logs.filter((l) => l.includes('the PKCS#11 token cannot sign') && l.includes(name)).length, 1, t.logs.filter((l) => l.includes('PKCS#11')).join('\n'));
    });
  }

  it('a real C_CloseAllSessions under load: sessions re-opened and logged in again, nothing lost, no 5xx but 503', async () => {
    const running = load(8);
    // Closed once signing is under way, then the load goes on until a signature succeeds after
    // the close (at most 5 s): waited for, not assumed after fixed delays on a busy machine.
    for (let i = 0; i < 100 && !running.outcomes.some((o) => o.status === 201); i++) await new Promise((r) => setTimeout(r, 50));
    const closedAt = performance.now();
    try {
      withTokenSession((module, _session, slot) => module.closeAllSessions(slot));
      await new Promise((r) => setTimeout(r, 700));
      for (let i = 0; i < 100 && !running.outcomes.some((o) => o.status === 201 && o.at > closedAt + 100); i++) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await running.stop();
    }
    const outcomes = running.outcomes;
    assert.ok(outcomes.every((o) => o.status === 201 || (o.status === 503 && o.code === 'key_backend_unavailable')), JSON.stringify(outcomes.find((o) => o.status !== 201)));
    assert.ok(outcomes.some((o) => o.status === 201 && o.at > closedAt + 100), 'signing goes on after the sessions were closed');
    await assertKept(outcomes);
    const indexes = (await t.database.db.query<{ log_index: string }>('SELECT "log_index" FROM "release_signatures" WHERE "log_index" IS NOT NULL ORDER BY "log_index"')).map((r) => Number(r.log_index));
    assert.deepEqual(indexes, indexes.map((_, i) => i), 'log indexes gapless');
  });
});
