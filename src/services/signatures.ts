// Signing releases and reading them back. A (model, version) is immutable: the same manifest
// again returns the stored signature, a different one is refused.
import { createHash, randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { buildBundle, type Bundle } from '../core/bundle.ts';
import { equalBytes, hexToBytes } from '../core/bytes.ts';
import { IN_TOTO_PAYLOAD_TYPE, preAuthEncoding } from '../core/dsse.ts';
import { isUuid } from '../core/ids.ts';
import { ModelsignError } from '../core/errors.ts';
import { buildManifest, type ManifestFile } from '../core/manifest.ts';
import { assertModelName, assertVersion, subjectName } from '../core/release-name.ts';
import { buildStatement, encodeStatement } from '../core/statement.ts';
import { leafDataFromDigest } from '../core/tlog/leaf.ts';
import type { Database, Prisma, PrismaClient } from '../db/client.ts';
import type { Clock } from './clock.ts';
import type { KeyService } from './keys.ts';
import { actorOf, type Principal } from './principal.ts';
import { SignatureWriter } from './signature-writer.ts';
import { appendToTree, lockTreeEdge } from './tlog-store.ts';
import type { TlogService } from './tlog.ts';

export interface SignRequest {
  model: string;
  version: string;
  files: ManifestFile[];
  ignorePaths?: string[] | undefined;
}

export interface SignatureRecord {
  id: string;
  model: string;
  version: string;
  kid: string;
  rootDigest: string;
  publisher: string;
  files: ManifestFile[];
  ignorePaths: string[];
  createdAt: Date;
  logIndex: number | null;
  /** The bundle, with its tlog entry once a checkpoint covers the signature. */
  bundle: Bundle;
}

export type SignatureSummary = Omit<SignatureRecord, 'files' | 'ignorePaths' | 'bundle'>;

export interface ListQuery {
  model?: string | undefined;
  version?: string | undefined;
  sha256?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

const RECORD_FIELDS = {
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
  publisher: { select: { name: true } },
} as const;

type Row = Prisma.ReleaseSignatureGetPayload<{ select: typeof RECORD_FIELDS }>;

export interface SigningOptions {
  /** How long a signing call waits for a checkpoint covering the new entry. */
  tlogWaitMs: number;
}

// The same leaf and leaf hash as core/tlog (leafData, leafHash), hashed by node:crypto: several
// times faster than the portable hash on the signing path.
const LEAF_PREFIX = new Uint8Array([0x00]); // RFC 6962 leaf hash domain separator

function leafHashHex(leaf: Uint8Array): string {
  return createHash('sha256').update(LEAF_PREFIX).update(leaf).digest('hex');
}

function leafOf(r: { model: string; version: string; rootDigest: string; kid: string }, payload: Uint8Array, signature: Uint8Array): Uint8Array {
  const payloadSha256 = createHash('sha256').update(payload).digest('hex');
  return leafDataFromDigest({ subject: subjectName(r.model, r.version), rootDigest: r.rootDigest, payloadSha256, kid: r.kid, signature });
}

function toRecord(row: Row): SignatureRecord {
  return {
    id: row.id,
    model: row.model,
    version: row.version,
    kid: row.kid,
    rootDigest: row.rootDigest,
    publisher: row.publisher.name,
    // Written only by SignatureWriter, from a validated manifest.
    files: row.files as unknown as ManifestFile[],
    ignorePaths: row.ignorePaths,
    createdAt: row.createdAt,
    logIndex: row.logIndex === null ? null : Number(row.logIndex),
    bundle: buildBundle({ payload: row.payload, signature: row.signature, kid: row.kid }),
  };
}

export class SignatureService {
  private readonly prisma: PrismaClient;
  private readonly writer: SignatureWriter;
  private readonly cache = new LRUCache<string, SignatureRecord>({
    maxSize: 64 * 1024 * 1024,
    sizeCalculation: (r) => r.bundle.dsseEnvelope.payload.length * 2 + 1024,
  });

  constructor(
    private readonly db: Database,
    private readonly keys: KeyService,
    private readonly tlog: TlogService,
    private readonly clock: Clock,
    private readonly options: SigningOptions,
  ) {
    this.prisma = db.prisma;
    this.writer = new SignatureWriter(db, tlog);
  }

  /**
   * Gives log indexes to signatures stored before the log existed (or by any path that left
   * log_index empty), oldest first, in batches, under the same lock as the writer.
   */
  async sequenceUnlogged(batchSize = 500): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.db.transaction(async (s) => {
        const edge = await lockTreeEdge(s);
        const rows = await s.query<{ id: string; model: string; version: string; root_digest: string; kid: string; payload: Uint8Array; signature: Uint8Array }>(
          'SELECT "id"::text AS "id", "model", "version", "root_digest", "kid", "payload", "signature" FROM "release_signatures" WHERE "log_index" IS NULL ORDER BY "seq" LIMIT $1',
          [batchSize],
        );
        if (rows.length === 0) return 0;
        await s.query(
          'UPDATE "release_signatures" r SET "log_index" = t.i FROM unnest($1::uuid[], $2::bigint[]) AS t(id, i) WHERE r."id" = t.id',
          [rows.map((r) => r.id), rows.map((_, i) => String(edge.size + i))],
        );
        const leaves = rows.map((r) => hexToBytes(leafHashHex(leafOf({ model: r.model, version: r.version, rootDigest: r.root_digest, kid: r.kid }, new Uint8Array(r.payload), new Uint8Array(r.signature)))));
        const appended = await appendToTree(s, edge, leaves);
        this.tlog.appended(appended.nodes);
        return rows.length;
      });
      total += n;
      if (n < batchSize) return total;
    }
  }

  /** The record with its tlog entry attached when the log has one for it. */
  private async complete(record: SignatureRecord, payload: Uint8Array, signature: Uint8Array, waitMs: number): Promise<SignatureRecord> {
    if (record.logIndex === null) return record;
    if (waitMs > 0) await this.tlog.waitFor(record.logIndex + 1, waitMs);
    const entry = await this.tlog.entryFor(record.logIndex, leafOf(record, payload, signature));
    if (entry) record.bundle.verificationMaterial.tlogEntries = [entry];
    return record;
  }

  async sign(principal: Principal, request: SignRequest): Promise<{ created: boolean; record: SignatureRecord }> {
    const { namespace } = assertModelName(request.model);
    assertVersion(request.version);
    if (principal.role !== 'publisher' || !principal.publisherId) {
      throw new ModelsignError('forbidden_role', 'only publisher tokens may sign releases');
    }
    if (!principal.namespaces.includes(namespace)) {
      throw new ModelsignError('forbidden_namespace', `publisher ${principal.subject} does not own namespace ${JSON.stringify(namespace)}`);
    }
    const manifest = buildManifest(request.files, request.ignorePaths ?? []);
    const payload = encodeStatement(buildStatement(subjectName(request.model, request.version), manifest));
    const signer = this.keys.signer('release');
    const signature = signer.sign(preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload));
    const id = randomUUID();
    const now = this.clock.now();
    const files = manifest.files.map((f) => ({ path: f.path, sha256: f.sha256, size: f.size }));
    const details = { model: request.model, version: request.version, rootDigest: manifest.rootDigest, kid: signer.kid, files: files.length };
    const bundle = buildBundle({ payload, signature, kid: signer.kid });
    const result = await this.writer.write({
      id,
      model: request.model,
      version: request.version,
      rootDigest: manifest.rootDigest,
      files,
      ignorePaths: manifest.ignorePaths,
      payloadB64: bundle.dsseEnvelope.payload,
      signatureB64: bundle.dsseEnvelope.signatures[0]!.sig,
      kid: signer.kid,
      publisherId: principal.publisherId,
      createdAt: now,
      actor: actorOf(principal),
      details,
      leafHash: leafHashHex(leafOf({ model: request.model, version: request.version, rootDigest: manifest.rootDigest, kid: signer.kid }, payload, signature)),
    });
    if (result.inserted) {
      const record: SignatureRecord = {
        id,
        model: request.model,
        version: request.version,
        kid: signer.kid,
        rootDigest: manifest.rootDigest,
        publisher: principal.subject,
        files,
        ignorePaths: manifest.ignorePaths,
        createdAt: now,
        logIndex: result.logIndex,
        bundle,
      };
      return { created: true, record: await this.complete(record, payload, signature, this.options.tlogWaitMs) };
    }
    const existing = await this.prisma.releaseSignature.findUniqueOrThrow({
      where: { model_version: { model: request.model, version: request.version } },
      select: RECORD_FIELDS,
    });
    if (!equalBytes(existing.payload, payload)) {
      throw new ModelsignError(
        'release_conflict',
        `${request.model}@${request.version} is already signed (signature ${existing.id}, root digest ${existing.rootDigest}) with a different manifest; publish a new version instead`,
        [{ message: 'existing signature', id: existing.id, rootDigest: existing.rootDigest }],
      );
    }
    return { created: false, record: await this.complete(toRecord(existing), existing.payload, existing.signature, this.options.tlogWaitMs) };
  }

  async get(id: string): Promise<SignatureRecord> {
    const cached = this.cache.get(id);
    if (cached) return cached;
    const row = isUuid(id) ? await this.prisma.releaseSignature.findUnique({ where: { id }, select: RECORD_FIELDS }) : null;
    if (!row) throw new ModelsignError('not_found', `no signature ${JSON.stringify(id)}`);
    return this.remember(await this.complete(toRecord(row), row.payload, row.signature, 0));
  }

  async findRelease(model: string, version: string): Promise<SignatureRecord | undefined> {
    const row = await this.prisma.releaseSignature.findUnique({ where: { model_version: { model, version } }, select: RECORD_FIELDS });
    return row ? this.remember(await this.complete(toRecord(row), row.payload, row.signature, 0)) : undefined;
  }

  /** Drops every cached record (a key changed: an entry may now need another checkpoint). */
  forget(): void {
    this.cache.clear();
  }

  // A signature with its log entry does not change (the entry's checkpoint is the first that
  // covered it) until a key changes, when forget() drops everything: every instance may keep
  // what it has read; one still waiting for its checkpoint is read again next time.
  private remember(record: SignatureRecord): SignatureRecord {
    if (record.bundle.verificationMaterial.tlogEntries.length > 0) this.cache.set(record.id, record);
    return record;
  }

  /** Newest first; the cursor is opaque to clients (the last row's insertion sequence). */
  async list(query: ListQuery): Promise<{ items: SignatureSummary[]; nextCursor: string | null }> {
    let before: bigint | undefined;
    if (query.cursor !== undefined) {
      if (!/^[1-9][0-9]{0,18}$/.test(query.cursor)) throw new ModelsignError('validation_failed', 'cursor is not one this service returned', [{ path: 'cursor', message: 'invalid cursor' }]);
      before = BigInt(query.cursor);
    }
    const rows = await this.prisma.releaseSignature.findMany({
      where: {
        ...(query.model !== undefined ? { model: query.model } : {}),
        ...(query.version !== undefined ? { version: query.version } : {}),
        ...(query.sha256 !== undefined ? { OR: [{ rootDigest: query.sha256 }, { fileDigests: { has: query.sha256 } }] } : {}),
        ...(before !== undefined ? { seq: { lt: before } } : {}),
      },
      orderBy: { seq: 'desc' },
      take: query.limit + 1,
      select: { seq: true, id: true, model: true, version: true, kid: true, rootDigest: true, createdAt: true, logIndex: true, publisher: { select: { name: true } } },
    });
    const page = rows.slice(0, query.limit);
    return {
      items: page.map((r) => ({
        id: r.id,
        model: r.model,
        version: r.version,
        kid: r.kid,
        rootDigest: r.rootDigest,
        publisher: r.publisher.name,
        createdAt: r.createdAt,
        logIndex: r.logIndex === null ? null : Number(r.logIndex),
      })),
      nextCursor: rows.length > query.limit ? String(page[page.length - 1]!.seq) : null,
    };
  }
}
