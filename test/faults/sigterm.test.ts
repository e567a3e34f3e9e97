// SIGTERM during signing load. Requests already being served complete,
// new ones are refused (503 problem+json while draining, then the port is closed), the process
// exits 0 within 10 s, and every acknowledged signature is stored and in the log.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createPostgresDatabase } from '../support/db.ts';
import { assertGaplessLog, assertNoSecretsIn, countBy, deployment, signingLoad, sleep, type Deployment } from './support/harness.ts';

describe('SIGTERM under load', () => {
  let db: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let d: Deployment;
  before(async () => {
    db = await createPostgresDatabase();
    d = deployment(db.url);
  });
  after(async () => {
    for (const s of d.services) await s.stop('SIGKILL');
    d.saveLogs('sigterm');
    await db.drop();
  });

  it('drains: in-flight requests complete, new ones are refused, exit 0 within 10 s, nothing acknowledged lost', { timeout: 3 * 60_000 }, async () => {
    const service = await d.start();
    const { admin, publisher } = await d.acme(service);

    const load = signingLoad(() => service.base, publisher, { concurrency: 40 });
    await sleep(3000);
    const exited = new Promise<{ code: number | null; at: number }>((resolve) => service.child.once('exit', (code) => resolve({ code, at: Date.now() })));
    const termAt = Date.now();
    const inFlight = load.outcomes.length;
    service.child.kill('SIGTERM');
    const { code, at } = await exited;
    await sleep(500);
    await load.stop();

    // Draining starts when the service handles the signal (it logs "shutting down"), which on a
    // busy machine can be well after kill() returned: a request sent in between is served, rightly.
    const shutdownLine = service.output().split('\n').find((l) => l.includes('"msg":"shutting down"'));
    assert.ok(shutdownLine, 'the service logged that it is shutting down');
    const drainAt = Math.max(termAt, (JSON.parse(shutdownLine) as { time: number }).time);
    const started = load.outcomes.filter((o) => o.sentAt < termAt);
    const later = load.outcomes.filter((o) => o.sentAt > drainAt + 20);
    console.log(`# sigterm: signal handled ${drainAt - termAt} ms after kill(); exit ${code} after ${at - termAt} ms; ${inFlight} answered before the signal; of the ${started.length - inFlight} in flight at the signal: ${JSON.stringify(countBy(started.slice(inFlight).map((o) => String(o.status))))}; sent later: ${JSON.stringify(countBy(later.map((o) => `${o.status}${o.cause ? ` ${o.cause}` : ''}${o.code ? ` ${o.code}` : ''}`)))}`);
    assert.equal(code, 0, 'exit status 0');
    assert.ok(at - termAt <= 10_000, `exited ${at - termAt} ms after SIGTERM`);
    for (const o of started) assert.equal(typeof o.status, 'number', `a request sent before the signal got an answer, not ${o.status} ${o.cause ?? ''}`);
    for (const o of started) assert.ok(o.status === 201 || o.status === 503, `in flight: ${o.status}`);
    assert.ok(started.slice(inFlight).some((o) => o.status === 201), 'requests in flight at the signal completed');
    for (const o of later) {
      if (typeof o.status === 'number') {
        assert.equal(o.status, 503, 'a new request while draining is refused');
        assert.equal(o.code, 'unavailable');
      } else {
        assert.ok(['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET'].includes(o.cause ?? ''), `refused at the connection: ${o.cause}`);
      }
    }
    assert.ok(later.length > 0, 'clients kept trying after the signal');

    const acked = load.acked();
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query<{ n: string }>('SELECT count(*)::text AS n FROM "release_signatures" WHERE "id"::text = ANY($1::text[])', [acked.map((o) => o.id!)]).finally(() => client.end());
    assert.equal(Number(rows[0]!.n), acked.length, 'every acknowledged signature is stored');
    // The next instance finds the log complete (nothing to add) and gapless.
    const next = await d.start();
    await next.stop();
    await assertGaplessLog(db.url);
    assert.match(d.services[0]!.output(), /"msg":"stopped"/);
    await assertNoSecretsIn(d.logs(), db.url, d.kek, [admin, publisher]);
  });
});
