// The reads behind C2SP tlog-tiles: a complete hash tile is one row of tlog_tiles (tile_rows
// migration), the right edge's partial one a range of tlog_nodes at level 8L, an entry bundle a
// range of tlog_leaves (tiles migration). Rows are written once and never change, so whatever
// these return for a full range is final.
import type { Database, SqlSession } from './client.ts';

type Query = Pick<SqlSession, 'query'>;

const toBytes = (v: Uint8Array) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);

/**
 * The stored hashes of hash tile (level, index), concatenated in index order: 8 KiB when the tile
 * is complete (its row in tlog_tiles, by primary key), else those of its nodes stored so far,
 * aggregated in SQL (one row: 256 rows of bytea cost the driver far more to decode than one of
 * 8 KiB). One prepared statement either way: COALESCE evaluates the aggregate only when there is
 * no row.
 */
export async function readTileHashes(db: Pick<Database, 'queryPrepared'>, level: number, index: number): Promise<Uint8Array> {
  const [row] = await db.queryPrepared<{ hashes: Uint8Array | null }>(
    'modelsign-tile-hashes',
    `SELECT COALESCE(
       (SELECT t."hashes" FROM "tlog_tiles" t WHERE t."level" = $1::smallint AND t."idx" = $2::bigint),
       (SELECT string_agg(n."hash", ''::bytea ORDER BY n."idx") FROM "tlog_nodes" n
        WHERE n."level" = $1::smallint * 8 AND n."idx" >= $2::bigint * 256 AND n."idx" < ($2::bigint + 1) * 256)
     ) AS "hashes"`,
    [level, String(index)],
  );
  return row?.hashes ? toBytes(row.hashes) : new Uint8Array(0);
}

/** The stored leaf data of entries [start, start + count), by index (missing ones absent). */
export async function readLeafRange(db: Query, start: number, count: number): Promise<Map<number, Uint8Array>> {
  const rows = await db.query<{ idx: string; data: Uint8Array }>(
    'SELECT l."idx"::text AS "idx", l."data" FROM "tlog_leaves" l WHERE l."idx" >= $1::bigint AND l."idx" < $2::bigint ORDER BY l."idx"',
    [String(start), String(start + count)],
  );
  return new Map(rows.map((r) => [Number(r.idx), toBytes(r.data)]));
}

/** Whether a stored checkpoint has a size in [from, to). */
export async function checkpointSizeWithin(db: Query, from: number, to: number): Promise<boolean> {
  const [row] = await db.query<{ found: boolean }>('SELECT EXISTS (SELECT 1 FROM "tlog_checkpoints" c WHERE c."size" >= $1::bigint AND c."size" < $2::bigint) AS "found"', [String(from), String(to)]);
  return row?.found === true;
}

// Any fixed 64-bit number, distinct from the database's other advisory locks (migrate.ts, key-store.ts).
const LEAF_BACKFILL_LOCK = 7_418_530_166_020_917n;

/** Takes the leaf backfill's lock for this transaction; false when another instance holds it. */
export async function tryLeafBackfillLock(s: Query): Promise<boolean> {
  const [row] = await s.query<{ locked: boolean }>(`SELECT pg_try_advisory_xact_lock(${LEAF_BACKFILL_LOCK}) AS "locked"`);
  return row?.locked === true;
}

/** Logged signatures after index `after` whose leaf data is not stored, oldest first, with what rebuilds it. */
export async function signaturesWithoutLeaves(
  s: Query,
  after: number,
  limit: number,
): Promise<{ logIndex: number; model: string; version: string; rootDigest: string; kid: string; payload: Uint8Array; signature: Uint8Array; entryKind: string; leafHash: Uint8Array }[]> {
  const rows = await s.query<{ logIndex: string; model: string; version: string; rootDigest: string; kid: string; payload: Uint8Array; signature: Uint8Array; entryKind: string; leafHash: Uint8Array }>(
    `SELECT r."log_index"::text AS "logIndex", r."model", r."version", r."root_digest" AS "rootDigest", r."kid", r."payload", r."signature", r."entry_kind" AS "entryKind", n."hash" AS "leafHash"
     FROM "release_signatures" r JOIN "tlog_nodes" n ON n."level" = 0 AND n."idx" = r."log_index"
     WHERE r."log_index" > $1::bigint AND NOT EXISTS (SELECT 1 FROM "tlog_leaves" l WHERE l."idx" = r."log_index")
     ORDER BY r."log_index" LIMIT $2`,
    [String(after), limit],
  );
  return rows.map((r) => ({ ...r, logIndex: Number(r.logIndex), payload: toBytes(r.payload), signature: toBytes(r.signature), leafHash: toBytes(r.leafHash) }));
}

/** Stores leaf data (idx, data) rows; an index already stored is left as it is. */
export async function storeLeaves(s: Query, leaves: readonly { index: number; data: Uint8Array }[]): Promise<void> {
  if (leaves.length === 0) return;
  await s.query(
    'INSERT INTO "tlog_leaves" ("idx", "data") SELECT t.i, decode(t.d, \'base64\') FROM unnest($1::bigint[], $2::text[]) AS t(i, d) ON CONFLICT ("idx") DO NOTHING',
    [leaves.map((l) => String(l.index)), leaves.map((l) => Buffer.from(l.data).toString('base64'))],
  );
}

// Any fixed 64-bit number, distinct from the database's other advisory locks.
const MIRROR_LOCK = 7_418_530_166_020_918n;

/** Takes the mirror job's lock for this transaction; false when another instance holds it (services/mirror-job.ts). */
export async function tryMirrorLock(s: Query): Promise<boolean> {
  const [row] = await s.query<{ locked: boolean }>(`SELECT pg_try_advisory_xact_lock(${MIRROR_LOCK}) AS "locked"`);
  return row?.locked === true;
}
