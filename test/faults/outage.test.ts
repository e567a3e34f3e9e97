// PostgreSQL stops for 10 s under signing load. Meanwhile requests are
// answered 503 problem+json (never 500, never later than the request timeout), /readyz fails
// while /healthz passes; within 5 s of PostgreSQL coming back the same process signs again; no
// acknowledged signature is lost. The database is a private cluster this test owns (stopping the
// machine's shared server would break every other test).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { canRunCluster, createCluster, type Cluster } from './support/cluster.ts';
import { assertGaplessLog, assertNoSecretsIn, countBy, deployment, signingLoad, sleep, type Deployment } from './support/harness.ts';

const REQUEST_TIMEOUT_MS = 10_000;

const skip = !canRunCluster() && process.env.MODELSIGN_TEST_REQUIRE_POSTGRES !== '1' && 'needs PostgreSQL server binaries (Debian postgresql) to run a private cluster it can stop';

describe('database outage under load', { skip }, () => {
  let cluster: Cluster;
  let d: Deployment;
  before(async () => {
    cluster = await createCluster();
    d = deployment(cluster.url, { MODELSIGN_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) });
  });
  after(async () => {
    for (const s of d.services) await s.stop('SIGKILL');
    d.saveLogs('outage');
    cluster.destroy();
  });

  it('503 problem+json during a 10 s outage, ready again and signing within 5 s of the database returning, nothing acknowledged lost', { timeout: 5 * 60_000 }, async () => {
    const service = await d.start();
    const { admin, publisher } = await d.acme(service);

    const probes: Array<{ at: number; healthz: number; readyz: number; readyBody: string }> = [];
    let probing = true;
    const prober = (async () => {
      while (probing) {
        const [h, r] = await Promise.all([fetch(`${service.base}/healthz`), fetch(`${service.base}/readyz`)]);
        probes.push({ at: Date.now(), healthz: h.status, readyz: r.status, readyBody: await r.text() });
        await h.text();
        await sleep(200);
      }
    })();

    const load = signingLoad(() => service.base, publisher, { concurrency: 20, timeoutMs: REQUEST_TIMEOUT_MS + 20_000, pauseMs: 20 });
    await sleep(3000);
    const downAt = Date.now();
    cluster.stop('fast');
    await sleep(10_000);
    cluster.start();
    const upAt = Date.now();
    await sleep(8000);
    await load.stop();
    probing = false;
    await prober;

    const during = load.outcomes.filter((o) => o.at > downAt + 500 && o.at < upAt);
    const afterUp = load.outcomes.filter((o) => o.at >= upAt);
    const firstSigned = afterUp.find((o) => o.status === 201);
    console.log(
      `# outage: ${load.outcomes.length} requests; during the outage ${during.length} answered (${JSON.stringify(countBy(during.map((o) => `${o.status}${o.code ? ` ${o.code}` : ''}`)))}); ` +
        `first signature ${firstSigned ? firstSigned.at - upAt : 'never'} ms after the database was back; slowest answer ${Math.max(...load.outcomes.map((o) => o.ms))} ms`,
    );
    for (const o of load.outcomes) {
      assert.equal(typeof o.status, 'number', `every request got an answer (${o.status} after ${o.ms} ms)`);
      assert.notEqual(o.status, 500);
      assert.ok(o.ms <= REQUEST_TIMEOUT_MS + 1000, `answered in ${o.ms} ms, within the request timeout`);
      if (o.status !== 201 && o.status !== 200) {
        assert.equal(o.status, 503, JSON.stringify(o));
        assert.match(o.contentType ?? '', /^application\/problem\+json/);
        assert.equal(o.code, 'unavailable');
      }
    }
    assert.ok(during.some((o) => o.status === 503), 'requests during the outage were refused with 503');
    assert.ok(firstSigned && firstSigned.at - upAt <= 5000, 'signing again within 5 s of the database coming back');

    const probesDown = probes.filter((p) => p.at > downAt + 2000 && p.at < upAt);
    assert.ok(probesDown.length >= 10);
    for (const p of probesDown) {
      assert.equal(p.healthz, 200, '/healthz passes while the database is away');
      assert.equal(p.readyz, 503, `/readyz fails while the database is away: ${p.readyBody}`);
      assert.equal(JSON.parse(p.readyBody).checks.database, 'failing');
    }
    const readyAgain = probes.find((p) => p.at > upAt && p.readyz === 200);
    assert.ok(readyAgain && readyAgain.at - upAt <= 5000, `/readyz passes again within 5 s (${readyAgain ? readyAgain.at - upAt : 'never'} ms)`);
    assert.equal(service.child.exitCode, null, 'the same process, never restarted');

    const acked = load.acked();
    const client = new pg.Client({ connectionString: cluster.url });
    await client.connect();
    const { rows } = await client.query<{ n: string }>('SELECT count(*)::text AS n FROM "release_signatures" WHERE "id"::text = ANY($1::text[])', [acked.map((o) => o.id!)]).finally(() => client.end());
    assert.equal(Number(rows[0]!.n), new Set(acked.map((o) => o.id)).size, 'every acknowledged signature is stored');
    await assertGaplessLog(cluster.url);
    await assertNoSecretsIn(d.logs(), cluster.url, d.kek, [admin, publisher]);
    // One warning for the outage, however many requests and polls met it, and one line when it ends.
    const lines = d.logs().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string });
    const warnings = lines.filter((l) => l.level >= 40);
    assert.deepEqual(warnings.map((l) => l.msg), ['the database is unavailable: requests that need it are answered 503 until it is back (one line per outage)'], JSON.stringify(warnings.slice(0, 5)));
    assert.equal(lines.filter((l) => l.msg === 'the database serves reads and writes again').length, 1);
  });
});
