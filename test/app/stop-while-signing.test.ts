// Shutdown with signing still running. The HTTP server's close waits for connections, not for
// their handlers, so a batch whose client has gone (a timed-out pipeline, a load generator that
// stopped) can still be writing when the services stop: they must let it finish before the
// database closes, rather than fail its write and log a database outage that never happened.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bearer, createTestApp, sha, type TestApp } from '../support/app.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

describe('stopping the services while a batch is being signed', () => {
  let database: TestDatabase;
  let t: TestApp;
  before(async () => {
    database = await createTestDatabase();
    t = await createTestApp({ database });
  });
  after(async () => {
    await t.app.close();
    await database.drop();
  });

  it('waits for the batch: it is stored and answered, the database closes after it, and no outage is logged', async () => {
    const token = await t.publisherToken('acme');
    const items = Array.from({ length: 50 }, (_, i) => ({ model: 'acme/llama', version: `1.${i}`, files: [{ path: 'model.safetensors', sha256: sha(String(i % 10)), size: 10 + i }] }));
    // The services stop (and then the database closes, as the runtime does) the moment the batch
    // enters the signing service: as when a client leaves during a drain.
    const signing = t.services.signing;
    const signBatch = signing.signBatch.bind(signing);
    let stopped: Promise<void> | undefined;
    let inFlightAtStop = -1;
    signing.signBatch = (principal, requests) => {
      const run = signBatch(principal, requests);
      inFlightAtStop = signing.inFlight;
      stopped = t.services.stop().then(() => database.db.close());
      return run;
    };
    const answer = t.app.inject({ method: 'POST', url: '/v1/signatures/batch', headers: bearer(token), payload: { items } });
    const res = await answer;
    await stopped;
    assert.equal(inFlightAtStop, 1, 'stop() began with the batch signing');
    assert.equal(res.statusCode, 200, res.body);
    const results = res.json().results as { status: number; signature?: { logIndex: number } }[];
    assert.deepEqual(results.map((r) => r.status), items.map(() => 201));
    assert.deepEqual(results.map((r) => r.signature!.logIndex).sort((a, b) => a - b), items.map((_, i) => i));
    assert.ok(!t.logs.some((line) => line.includes('the database is unavailable')), t.logs.filter((l) => l.includes('"level":40')).join('\n'));
  });
});
