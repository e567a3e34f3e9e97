// The release_signatures table. Signatures are written in batches by one statement that also
// numbers them in the log (tlog_append), stores their tree nodes, usually their checkpoint, and
// their audit events, so an acknowledged signature is always in the log (docs/design/log.md).
import type { SignerIdentity } from '../core/oidc/identity.ts';
import type { SignatureFacts } from '../core/signature-record.ts';
import type { Database, Prisma, SqlSession, Tx } from './client.ts';
import type { CheckpointToStore } from './log-store.ts';

export interface SignatureInsert {
  id: string;
  model: string;
  version: string;
  rootDigest: string;
  files: { path: string; sha256: string; size?: number | undefined }[];
  ignorePaths: string[];
  /** Base64 of the signed payload and of the signature, as they appear in the bundle. */
  payloadB64: string;
  signatureB64: string;
  kid: string;
  publisherId: string;
  createdAt: Date;
  /** The `signature.create` audit event's actor and details. */
  actor: string;
  details: Record<string, unknown>;
  /** Hex RFC 6962 leaf hash of the signature's log entry, the entry's data (base64) and kind (`kind/version`). */
  leafHash: string;
  leafB64: string;
  entryKind: string;
  /** The token that signed, and who was behind it. */
  tokenJti: string;
  identity: SignerIdentity;
}

export interface InsertedSignature {
  id: string;
  logIndex: number;
}

export interface BatchResult {
  /** The signatures stored, by log index; a release already signed is not among them. */
  inserted: InsertedSignature[];
  /** The tree before the batch (size and packed right edge), when anything was stored. */
  start: { size: number; frontier: Uint8Array } | undefined;
  /** Whether the checkpoint passed in was stored, and the size of the one before it. */
  checkpoint: { stored: boolean; previous: number | null };
}

// One statement stores a whole batch, with one JSON parameter (the same SQL works through pg and
// PGlite, and the bundle's base64 strings are reused rather than re-encoded):
// - `fresh`: the requests whose release is not signed yet (a release asked for twice in one
//   batch is stored once, the first time);
// - `seq`: tlog_append locks the log's edge row, stores the tree nodes of the fresh leaves and
//   returns the edge as it was, whose size numbers the fresh rows; a checkpoint the caller
//   signed for the tree it predicted is stored too if the prediction holds;
// - the signatures, with their log indexes, their leaf data (tlog_leaves) and their audit events.
// The existence check runs on the statement's snapshot, taken before the lock: a release stored
// by another instance in between makes the unique index refuse the statement (and the writer
// retry its rows singly) rather than number a row that is not inserted.
const INSERT_BATCH = `
  WITH input AS (
    SELECT * FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (
      "id" uuid, "model" text, "version" text, "rootDigest" text, "files" jsonb, "ignorePaths" jsonb,
      "payloadB64" text, "signatureB64" text, "kid" text, "publisherId" uuid, "createdAt" timestamptz,
      "actor" text, "details" jsonb, "leafHash" text, "leafB64" text, "entryKind" text, "tokenJti" uuid, "identity" jsonb
    )) WITH ORDINALITY AS t
  ), fresh AS MATERIALIZED (
    SELECT DISTINCT ON (i."model", i."version") i.* FROM input i
    WHERE NOT EXISTS (SELECT 1 FROM "release_signatures" r WHERE r."model" = i."model" AND r."version" = i."version")
    ORDER BY i."model", i."version", i."ordinality"
  ), seq AS MATERIALIZED (
    SELECT a.* FROM (SELECT array_agg(decode(f."leafHash", 'hex') ORDER BY f."ordinality") AS leaves FROM fresh f) l,
         LATERAL "tlog_append"(l.leaves, $2::bigint, decode($3, 'hex'), $4, $5, $6::bigint, $7::timestamptz) a
  ), numbered AS (
    SELECT f.*, s."start_size" + row_number() OVER (ORDER BY f."ordinality") - 1 AS "logIndex" FROM fresh f, seq s
  ), ins AS (
    INSERT INTO "release_signatures"
      ("id", "model", "version", "root_digest", "files", "file_digests", "ignore_paths", "payload", "signature", "kid", "publisher_id", "created_at", "log_index", "entry_kind", "token_jti", "identity")
    SELECT "id", "model", "version", "rootDigest", "files",
           ARRAY(SELECT f->>'sha256' FROM jsonb_array_elements("files") AS f),
           ARRAY(SELECT jsonb_array_elements_text("ignorePaths")),
           decode("payloadB64", 'base64'), decode("signatureB64", 'base64'), "kid", "publisherId", "createdAt", "logIndex", "entryKind", "tokenJti", "identity"
    FROM numbered ORDER BY "logIndex"
    RETURNING "id", "log_index"
  ), leaves AS (
    INSERT INTO "tlog_leaves" ("idx", "data") SELECT n."logIndex", decode(n."leafB64", 'base64') FROM numbered n ORDER BY n."logIndex"
  ), audit AS (
    INSERT INTO "audit_events" ("at", "actor", "action", "target", "details")
    SELECT n."createdAt", n."actor", 'signature.create', 'signature:' || n."id"::text, n."details" || jsonb_build_object('logIndex', n."logIndex")
    FROM numbered n ORDER BY n."logIndex"
  )
  SELECT i."id"::text AS "id", i."log_index"::text AS "logIndex", s."start_size"::text AS "startSize", s."start_frontier" AS "startFrontier",
         s."cp_stored" AS "checkpointStored", s."cp_previous"::text AS "checkpointPrevious"
  FROM ins i, seq s ORDER BY i."log_index"`;

// Not a prepared statement: its generic plan cost PostgreSQL 2 to 4 times the CPU per signature
// in some rounds of bench/cpu-per-request.ts (185 to 458 us against about 110 us), the parse and
// plan it would save being far less.
export async function insertSignatureBatch(db: Pick<Database, 'query'>, rows: readonly SignatureInsert[], checkpoint: CheckpointToStore | undefined): Promise<BatchResult> {
  const result = await db.query<{ id: string; logIndex: string; startSize: string; startFrontier: Uint8Array; checkpointStored: boolean; checkpointPrevious: string | null }>(INSERT_BATCH, [
    JSON.stringify(rows),
    checkpoint ? String(checkpoint.size) : null,
    checkpoint ? Buffer.from(checkpoint.rootHash).toString('hex') : null,
    checkpoint?.note ?? null,
    checkpoint?.kid ?? null,
    checkpoint ? String(checkpoint.timestamp) : null,
    checkpoint?.at ?? null,
  ]);
  const first = result[0];
  return {
    inserted: result.map((r) => ({ id: r.id, logIndex: Number(r.logIndex) })),
    start: first ? { size: Number(first.startSize), frontier: new Uint8Array(first.startFrontier) } : undefined,
    checkpoint: { stored: first?.checkpointStored === true, previous: first?.checkpointPrevious == null ? null : Number(first.checkpointPrevious) },
  };
}

/** A stored signature as read back: a record without its bundle, and what the bundle is made of. */
export type SignatureRow = SignatureFacts & { entryKind: string };

const ROW_FIELDS = {
  id: true,
  model: true,
  version: true,
  kid: true,
  rootDigest: true,
  files: true,
  ignorePaths: true,
  payload: true,
  signature: true,
  createdAt: true,
  logIndex: true,
  entryKind: true,
  identity: true,
  publisher: { select: { name: true } },
} as const;

type Selected = Prisma.ReleaseSignatureGetPayload<{ select: typeof ROW_FIELDS }>;

function toRow(row: Selected): SignatureRow {
  return {
    ...row,
    publisher: row.publisher.name,
    // Written only by insertSignatureBatch, from a validated manifest.
    files: row.files as unknown as SignatureRow['files'],
    // Written only by insertSignatureBatch, from the signing principal's identity.
    identity: row.identity as unknown as SignerIdentity | null,
    payload: new Uint8Array(row.payload),
    signature: new Uint8Array(row.signature),
    logIndex: row.logIndex === null ? null : Number(row.logIndex),
  };
}

export async function findSignature(session: Tx, id: string): Promise<SignatureRow | undefined> {
  const row = await session.releaseSignature.findUnique({ where: { id }, select: ROW_FIELDS });
  return row ? toRow(row) : undefined;
}

export async function findReleaseSignature(session: Tx, model: string, version: string): Promise<SignatureRow | undefined> {
  const row = await session.releaseSignature.findUnique({ where: { model_version: { model, version } }, select: ROW_FIELDS });
  return row ? toRow(row) : undefined;
}

// Prisma passes startsWith to LIKE as it is (prisma/orm#19506): `_` in a namespace would match
// any character. PostgreSQL's LIKE takes backslash as its escape.
function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** A signature without its manifest and bundle, with its insertion sequence (the paging cursor). */
export type SignatureSummaryRow = Omit<SignatureRow, 'files' | 'ignorePaths' | 'payload' | 'signature' | 'entryKind' | 'identity'> & { seq: bigint };

/** Newest first, `limit` of them, before the insertion sequence `before` when given. */
export async function listSignatureSummaries(
  session: Tx,
  query: { model?: string | undefined; namespace?: string | undefined; version?: string | undefined; sha256?: string | undefined; before?: bigint | undefined; limit: number },
): Promise<SignatureSummaryRow[]> {
  // model = x AND model LIKE 'ns/%' when both are given: a model outside the namespace matches nothing.
  const models = [
    ...(query.model !== undefined ? [{ model: query.model }] : []),
    ...(query.namespace !== undefined ? [{ model: { startsWith: `${likeLiteral(query.namespace)}/` } }] : []),
  ];
  const rows = await session.releaseSignature.findMany({
    where: {
      ...(models.length > 0 ? { AND: models } : {}),
      ...(query.version !== undefined ? { version: query.version } : {}),
      ...(query.sha256 !== undefined ? { OR: [{ rootDigest: query.sha256 }, { fileDigests: { has: query.sha256 } }] } : {}),
      ...(query.before !== undefined ? { seq: { lt: query.before } } : {}),
    },
    orderBy: { seq: 'desc' },
    take: query.limit,
    select: { seq: true, id: true, model: true, version: true, kid: true, rootDigest: true, createdAt: true, logIndex: true, publisher: { select: { name: true } } },
  });
  return rows.map((r) => ({ ...r, publisher: r.publisher.name, logIndex: r.logIndex === null ? null : Number(r.logIndex) }));
}

/** Signatures without a log index (stored before the log existed), oldest first. */
export async function unloggedSignatures(s: Pick<SqlSession, 'query'>, limit: number): Promise<{ id: string; model: string; version: string; rootDigest: string; kid: string; payload: Uint8Array; signature: Uint8Array }[]> {
  const rows = await s.query<{ id: string; model: string; version: string; root_digest: string; kid: string; payload: Uint8Array; signature: Uint8Array }>(
    'SELECT "id"::text AS "id", "model", "version", "root_digest", "kid", "payload", "signature" FROM "release_signatures" WHERE "log_index" IS NULL ORDER BY "seq" LIMIT $1',
    [limit],
  );
  return rows.map((r) => ({ id: r.id, model: r.model, version: r.version, rootDigest: r.root_digest, kid: r.kid, payload: new Uint8Array(r.payload), signature: new Uint8Array(r.signature) }));
}

/** Gives `ids` the log indexes `start`, `start + 1`, ... in order, as entries of `entryKind`. */
export async function setLogIndexes(s: Pick<SqlSession, 'query'>, ids: readonly string[], start: number, entryKind: string): Promise<void> {
  await s.query('UPDATE "release_signatures" r SET "log_index" = t.i, "entry_kind" = $3 FROM unnest($1::uuid[], $2::bigint[]) AS t(id, i) WHERE r."id" = t.id', [
    [...ids],
    ids.map((_, i) => String(start + i)),
    entryKind,
  ]);
}

/** What the leaves of log entries [start, end) are made of, by index. */
export async function logEntryRows(
  db: Pick<Database, 'query'>,
  start: number,
  end: number,
): Promise<{ id: string; logIndex: number; model: string; version: string; rootDigest: string; kid: string; payload: Uint8Array; signature: Uint8Array; entryKind: string; createdAt: Date }[]> {
  const rows = await db.query<{ id: string; logIndex: string; model: string; version: string; rootDigest: string; kid: string; payload: Uint8Array; signature: Uint8Array; entryKind: string; createdAt: Date | string }>(
    `SELECT "id"::text AS "id", "log_index"::text AS "logIndex", "model", "version", "root_digest" AS "rootDigest", "kid",
            "payload", "signature", "entry_kind" AS "entryKind", "created_at" AS "createdAt"
     FROM "release_signatures" WHERE "log_index" >= $1::bigint AND "log_index" < $2::bigint ORDER BY "log_index"`,
    [String(start), String(end)],
  );
  return rows.map((r) => ({ ...r, logIndex: Number(r.logIndex), payload: new Uint8Array(r.payload), signature: new Uint8Array(r.signature), createdAt: new Date(r.createdAt) }));
}

/** Which of these releases (model@version) are signed already: one indexed join, no rows read. */
export async function signedReleases(db: Pick<Database, 'query'>, releases: readonly { model: string; version: string }[]): Promise<Set<string>> {
  if (releases.length === 0) return new Set();
  const rows = await db.query<{ model: string; version: string }>(
    'SELECT r."model", r."version" FROM unnest($1::text[], $2::text[]) AS t("model", "version") JOIN "release_signatures" r ON r."model" = t."model" AND r."version" = t."version"',
    [releases.map((r) => r.model), releases.map((r) => r.version)],
  );
  return new Set(rows.map((r) => `${r.model}@${r.version}`));
}

/** The stored signatures of these releases (model@version), by that key. */
export async function findReleaseSignatures(session: Tx, releases: readonly { model: string; version: string }[]): Promise<Map<string, SignatureRow>> {
  if (releases.length === 0) return new Map();
  const rows = await session.releaseSignature.findMany({ where: { OR: releases.map((r) => ({ model: r.model, version: r.version })) }, select: ROW_FIELDS });
  return new Map(rows.map((r) => [`${r.model}@${r.version}`, toRow(r)]));
}

/** How many signatures a key made in all, at or after `since`, and at or after `earlier`: one scan. */
export async function countSignaturesByKey(db: Pick<Database, 'query'>, kid: string, since: Date, earlier: Date): Promise<{ total: number; since: number; earlier: number }> {
  const [row] = await db.query<{ total: string; since: string; earlier: string }>(
    `SELECT count(*)::text AS "total",
            count(*) FILTER (WHERE "created_at" >= $2::timestamptz)::text AS "since",
            count(*) FILTER (WHERE "created_at" >= $3::timestamptz)::text AS "earlier"
     FROM "release_signatures" WHERE "kid" = $1`,
    [kid, since.toISOString(), earlier.toISOString()],
  );
  return { total: Number(row!.total), since: Number(row!.since), earlier: Number(row!.earlier) };
}
