// The reads behind C2SP tlog-tiles: a tile is one primary-key range scan of tlog_nodes at level
// 8L, an entry bundle one of tlog_leaves (tiles migration). Rows are written once and never
// change, so whatever these return for a full range is final.
import type { SqlSession } from './client.ts';

type Query = Pick<SqlSession, 'query'>;

const toBytes = (v: Uint8Array) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);

/** The stored node hashes (level, start ... start + count - 1), in index order (fewer when not all are stored). */
export async function readNodeRange(db: Query, level: number, start: number, count: number): Promise<Uint8Array[]> {
  const rows = await db.query<{ hash: Uint8Array }>(
    'SELECT n."hash" FROM "tlog_nodes" n WHERE n."level" = $1::smallint AND n."idx" >= $2::bigint AND n."idx" < $3::bigint ORDER BY n."idx"',
    [level, String(start), String(start + count)],
  );
  return rows.map((r) => toBytes(r.hash));
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
