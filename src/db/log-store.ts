// The transparency log's tables (tlog migration): tlog_state (size and right edge, one row),
// tlog_nodes (perfect subtrees, written once) and tlog_checkpoints (signed tree heads). The
// plpgsql function tlog_append is the only writer of the tree: the signing batch calls it
// (signature-store.ts) and so does appendToLog here. docs/design/log.md tells the whole story.
import { bytesToHex, toBase64 } from '../core/bytes.ts';
import type { SqlSession } from './client.ts';

type Query = Pick<SqlSession, 'query'>;

const toBytes = (v: Uint8Array) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);

/** A checkpoint as stored: the signed note and what it was stored with. */
export interface CheckpointRow {
  size: number;
  note: string;
  kid: string;
  timestamp: number;
}

/** A checkpoint signed by this instance, for tlog_append or tlog_publish to store. */
export interface CheckpointToStore {
  size: number;
  rootHash: Uint8Array;
  note: string;
  kid: string;
  timestamp: number;
  at: Date;
}

interface RawCheckpoint {
  size: string;
  note: string;
  kid: string;
  timestamp: string;
}

const toCheckpoint = (r: RawCheckpoint): CheckpointRow => ({ size: Number(r.size), note: r.note, kid: r.kid, timestamp: Number(r.timestamp) });

// Read from "tlog_checkpoints" (or a subquery of it) aliased c.
const CHECKPOINT_COLUMNS = 'c."size"::text AS "size", c."note", c."kid", c."timestamp"::text AS "timestamp"';

/**
 * The tree as committed (size and packed right edge) and the newest checkpoint, preferring
 * `preferKid`'s among those of the newest size.
 */
export async function readLogHead(db: Query, preferKid: string | null): Promise<{ size: number; frontier: Uint8Array; checkpoint: CheckpointRow | undefined }> {
  const [row] = await db.query<Partial<RawCheckpoint> & { treeSize: string; frontier: Uint8Array }>(
    `SELECT s."size"::text AS "treeSize", s."frontier", ${CHECKPOINT_COLUMNS}
     FROM "tlog_state" s LEFT JOIN LATERAL (
       SELECT * FROM "tlog_checkpoints" x ORDER BY x."size" DESC, (x."kid" = $1::text) DESC NULLS LAST, x."timestamp" DESC LIMIT 1
     ) c ON true WHERE s."id" = 1`,
    [preferKid],
  );
  if (!row) throw new Error('tlog_state is missing its row; the tlog migration did not run');
  return { size: Number(row.treeSize), frontier: toBytes(row.frontier), checkpoint: row.note ? toCheckpoint(row as RawCheckpoint) : undefined };
}

/**
 * Stores a checkpoint through tlog_publish: under the tree's row lock, only if it is for the tree
 * as it still stands. `previous` is the size of the newest checkpoint stored before it.
 */
export async function publishCheckpoint(db: Query, c: CheckpointToStore): Promise<{ stored: boolean; previous: number | null }> {
  const [result] = await db.query<{ stored: boolean; previous: string | null }>(
    'SELECT "stored", "previous"::text AS "previous" FROM "tlog_publish"($1::bigint, decode($2, \'hex\'), $3, $4, $5::bigint, $6::timestamptz)',
    [String(c.size), bytesToHex(c.rootHash), c.note, c.kid, String(c.timestamp), c.at],
  );
  return { stored: result?.stored === true, previous: result?.previous == null ? null : Number(result.previous) };
}

export async function latestCheckpoint(db: Query): Promise<CheckpointRow | undefined> {
  const [row] = await db.query<RawCheckpoint>(`SELECT ${CHECKPOINT_COLUMNS} FROM "tlog_checkpoints" c ORDER BY c."size" DESC, c."timestamp" DESC LIMIT 1`);
  return row ? toCheckpoint(row) : undefined;
}

/** The first checkpoint whose tree contains `index`, skipping those by `excludedKids`. */
export async function firstCheckpointCovering(db: Query, index: number, excludedKids: readonly string[]): Promise<CheckpointRow | undefined> {
  const [row] = await db.query<RawCheckpoint>(
    `SELECT ${CHECKPOINT_COLUMNS} FROM "tlog_checkpoints" c
     WHERE c."size" > $1::bigint AND NOT (c."kid" = ANY($2::text[])) ORDER BY c."size", c."timestamp" LIMIT 1`,
    [String(index), [...excludedKids]],
  );
  return row ? toCheckpoint(row) : undefined;
}

/** Locks the tree for appending until the transaction ends; returns its size. */
export async function lockLog(s: Query): Promise<number> {
  const [row] = await s.query<{ size: string }>('SELECT "size"::text AS "size" FROM "tlog_state" WHERE "id" = 1 FOR UPDATE');
  if (!row) throw new Error('tlog_state is missing its row; the tlog migration did not run');
  return Number(row.size);
}

/**
 * Appends leaves through tlog_append, their data stored beside them (tlog_leaves) in the same
 * statement; returns the tree as it was before them.
 */
export async function appendToLog(s: Query, leaves: readonly { hash: Uint8Array; data: Uint8Array }[]): Promise<{ startSize: number; startFrontier: Uint8Array }> {
  const [row] = await s.query<{ startSize: string; startFrontier: Uint8Array }>(
    `WITH a AS MATERIALIZED (
       SELECT * FROM "tlog_append"(ARRAY(SELECT decode(h, 'hex') FROM unnest($1::text[]) WITH ORDINALITY AS t(h, o) ORDER BY o), NULL, NULL, NULL, NULL, NULL, NULL)
     ), stored AS (
       INSERT INTO "tlog_leaves" ("idx", "data")
       SELECT a."start_size" + t.o - 1, decode(t.d, 'base64') FROM a, unnest($2::text[]) WITH ORDINALITY AS t(d, o)
     )
     SELECT a."start_size"::text AS "startSize", a."start_frontier" AS "startFrontier" FROM a`,
    [leaves.map((l) => bytesToHex(l.hash)), leaves.map((l) => toBase64(l.data))],
  );
  return { startSize: Number(row!.startSize), startFrontier: toBytes(row!.startFrontier) };
}

/** The tree's size and packed right edge as committed. */
export async function readTree(db: Query): Promise<{ size: number; frontier: Uint8Array }> {
  const [row] = await db.query<{ size: string; frontier: Uint8Array }>('SELECT "size"::text AS "size", "frontier" FROM "tlog_state" WHERE "id" = 1');
  if (!row) throw new Error('tlog_state is missing its row; the tlog migration did not run');
  return { size: Number(row.size), frontier: toBytes(row.frontier) };
}

/** The log's origin as stored, or null for a log that has none yet. */
export async function readLogOrigin(db: Query): Promise<string | null> {
  const [row] = await db.query<{ origin: string | null }>('SELECT "origin" FROM "tlog_state" WHERE "id" = 1');
  if (!row) throw new Error('tlog_state is missing its row; the tlog migration did not run');
  return row.origin;
}

/** Gives a log without an origin this one (an instance starting at the same moment may win). */
export async function claimLogOrigin(db: Query, origin: string): Promise<void> {
  await db.query('UPDATE "tlog_state" SET "origin" = $1 WHERE "id" = 1 AND "origin" IS NULL', [origin]);
}
