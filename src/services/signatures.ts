// Signing releases and reading them back. A (model, version) is immutable: the same manifest
// again returns the stored signature, a different one is refused. Signing is three steps:
// authorize (role and namespace), sign (statement, DSSE signature, log leaf), persist (the
// batching writer; the log index comes back with the commit).
import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { buildBundle } from '../core/bundle.ts';
import { bytesToHex, equalBytes } from '../core/bytes.ts';
import { IN_TOTO_PAYLOAD_TYPE, preAuthEncoding } from '../core/dsse.ts';
import { ModelsignError } from '../core/errors.ts';
import { isUuid } from '../core/ids.ts';
import { buildManifest, type ManifestFile } from '../core/manifest.ts';
import { assertModelName, assertVersion, subjectName } from '../core/release-name.ts';
import type { PublicKey } from '../core/keys/key.ts';
import type { SignatureRecord, SignatureSummary } from '../core/signature-record.ts';
import { buildStatement, encodeStatement } from '../core/statement.ts';
import type { AlgorithmId } from '../core/crypto/algorithm.ts';
import { DEFAULT_ALGORITHM } from '../core/crypto/registry.ts';
import { kindVersionKey, type EntryFacts, type KindVersion } from '../core/tlog/entries/entry-kind.ts';
import { CURRENT_ENTRY_KIND, entryKindNamed, leafFor } from '../core/tlog/entries/registry.ts';
import { unpackFrontier, appendLeaves } from '../core/tlog/compact-range.ts';
import type { LogHasher } from '../core/tlog/hash.ts';
import type { Database } from '../db/client.ts';
import { appendToLog, lockLog } from '../db/log-store.ts';
import { findReleaseSignature, findSignature, listSignatureSummaries, setLogIndexes, unloggedSignatures, type SignatureRow } from '../db/signature-store.ts';
import type { Checkpointer } from './checkpointer.ts';
import type { Clock } from './clock.ts';
import type { KeyService } from './keys.ts';
import type { LogReader } from './log-reader.ts';
import { actorOf, type Principal } from './principal.ts';
import type { SignatureWriter } from './signature-writer.ts';

export type { SignatureRecord, SignatureSummary };

export interface SignRequest {
  model: string;
  version: string;
  files: ManifestFile[];
  ignorePaths?: string[] | undefined;
}

export interface ListQuery {
  model?: string | undefined;
  version?: string | undefined;
  sha256?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

export interface SigningOptions {
  /** How long a signing call waits for a checkpoint covering the new entry (config.ts). */
  tlogWaitMs: number;
}

export class SignatureService {
  // A signature with its log entry does not change (the entry's checkpoint is the first that
  // covered it) until a key changes, when dropCache() empties this: every instance may keep what
  // it has read; one still waiting for its checkpoint is read again next time.
  private readonly cache = new LRUCache<string, SignatureRecord>({
    maxSize: 64 * 1024 * 1024,
    sizeCalculation: (r) => r.bundle.dsseEnvelope.payload.length * 2 + 1024,
  });
  // The id of each cached record by model and version, for /v1/verify's look-up of "did this
  // service record this release". Only found, final records are remembered: a release not
  // found now may be signed a moment later, on this instance or another.
  private readonly releaseIds = new LRUCache<string, string>({ max: 100_000 });

  constructor(
    private readonly db: Database,
    private readonly keys: KeyService,
    private readonly writer: SignatureWriter,
    private readonly reader: LogReader,
    private readonly checkpointer: Checkpointer,
    private readonly clock: Clock,
    private readonly hasher: LogHasher,
    private readonly options: SigningOptions,
  ) {}

  async sign(principal: Principal, request: SignRequest): Promise<{ created: boolean; record: SignatureRecord }> {
    const algorithm = authorize(principal, request);
    const manifest = buildManifest(request.files, request.ignorePaths ?? []);
    const payload = encodeStatement(buildStatement(subjectName(request.model, request.version), manifest));
    const signer = this.keys.signer('release', algorithm);
    const signature = await signer.sign(preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload));
    const id = randomUUID();
    const now = this.clock.now();
    const files = manifest.files.map((f) => ({ path: f.path, sha256: f.sha256, size: f.size }));
    const bundle = buildBundle({ payload, signature, kid: signer.kid });
    const facts: EntryFacts = {
      subject: subjectName(request.model, request.version),
      rootDigest: manifest.rootDigest,
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      payload,
      kid: signer.kid,
      key: { algorithm: signer.algorithm, publicKey: signer.publicKey },
      signature,
    };
    // Made once: its hash goes to the log, the data itself into the bundle's entry.
    const leaf = leafFor(CURRENT_ENTRY_KIND, facts, this.hasher.sha256);
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
      publisherId: principal.publisherId!,
      createdAt: now,
      actor: actorOf(principal),
      details: { model: request.model, version: request.version, rootDigest: manifest.rootDigest, kid: signer.kid, files: files.length },
      leafHash: bytesToHex(this.hasher.hashLeaf(leaf)),
      entryKind: kindVersionKey(CURRENT_ENTRY_KIND),
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
      return { created: true, record: await this.attachLogEntry(record, CURRENT_ENTRY_KIND, leaf, this.options.tlogWaitMs) };
    }
    const existing = await findReleaseSignature(this.db.prisma, request.model, request.version);
    if (!existing) throw new ModelsignError('internal_error', `${request.model}@${request.version} was neither stored nor found`);
    if (!equalBytes(existing.payload, payload)) {
      throw new ModelsignError(
        'release_conflict',
        `${request.model}@${request.version} is already signed (signature ${existing.id}, root digest ${existing.rootDigest}) with a different manifest; publish a new version instead`,
        [{ message: 'existing signature', id: existing.id, rootDigest: existing.rootDigest }],
      );
    }
    return { created: false, record: await this.attachRowEntry(existing, this.options.tlogWaitMs) };
  }

  async get(id: string): Promise<SignatureRecord> {
    const cached = this.cache.get(id);
    if (cached) return cached;
    const row = isUuid(id) ? await findSignature(this.db.prisma, id) : undefined;
    if (!row) throw new ModelsignError('not_found', `no signature ${JSON.stringify(id)}`);
    return this.cacheIfFinal(await this.attachRowEntry(row, 0));
  }

  async findRelease(model: string, version: string): Promise<SignatureRecord | undefined> {
    const id = this.releaseIds.get(`${model}@${version}`);
    const cached = id === undefined ? undefined : this.cache.get(id);
    if (cached) return cached;
    const row = await findReleaseSignature(this.db.prisma, model, version);
    return row ? this.cacheIfFinal(await this.attachRowEntry(row, 0)) : undefined;
  }

  /** Drops every cached record (a key changed: an entry may now need another checkpoint). */
  dropCache(): void {
    this.cache.clear();
    this.releaseIds.clear();
  }

  /** Newest first; the cursor is opaque to clients (the last row's insertion sequence). */
  async list(query: ListQuery): Promise<{ items: SignatureSummary[]; nextCursor: string | null }> {
    let before: bigint | undefined;
    if (query.cursor !== undefined) {
      if (!/^[1-9][0-9]{0,18}$/.test(query.cursor)) throw new ModelsignError('validation_failed', 'cursor is not one this service returned', [{ path: 'cursor', message: 'invalid cursor' }]);
      before = BigInt(query.cursor);
    }
    const rows = await listSignatureSummaries(this.db.prisma, { model: query.model, version: query.version, sha256: query.sha256, before, limit: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    return {
      items: page.map(({ seq: _seq, ...summary }) => summary),
      nextCursor: rows.length > query.limit ? String(page[page.length - 1]!.seq) : null,
    };
  }

  /**
   * Gives log indexes to signatures stored before the log existed (or by any path that left
   * log_index empty), oldest first, in batches, under the lock appends take.
   */
  async sequenceUnlogged(batchSize = 500): Promise<number> {
    let total = 0;
    for (;;) {
      const done = await this.db.transaction(async (s) => {
        await lockLog(s);
        const rows = await unloggedSignatures(s, batchSize);
        if (rows.length === 0) return { count: 0, nodes: [] };
        const leaves: Uint8Array[] = [];
        for (const r of rows) leaves.push(this.hasher.hashLeaf(leafFor(CURRENT_ENTRY_KIND, await this.rowFacts(r), this.hasher.sha256)));
        const start = await appendToLog(s, leaves);
        await setLogIndexes(
          s,
          rows.map((r) => r.id),
          start.startSize,
          kindVersionKey(CURRENT_ENTRY_KIND),
        );
        return { count: rows.length, nodes: appendLeaves(unpackFrontier(start.startSize, start.startFrontier), leaves, this.hasher).nodes };
      });
      if (done.count > 0) this.checkpointer.appended(done.nodes, undefined);
      total += done.count;
      if (done.count < batchSize) return total;
    }
  }

  private async rowFacts(row: { model: string; version: string; rootDigest: string; kid: string; payload: Uint8Array; signature: Uint8Array }): Promise<EntryFacts> {
    return rowEntryFacts(row, await this.keys.publicKey(row.kid));
  }

  private async attachRowEntry(row: SignatureRow, waitMs: number): Promise<SignatureRecord> {
    const kind = entryKindNamed(row.entryKind);
    return this.attachLogEntry(toRecord(row), kind.kindVersion, kind.leafData(await this.rowFacts(row), this.hasher.sha256), waitMs);
  }

  /** The record with its tlog entry (of `kindVersion`, leaf data `leaf`) attached when the log has one for it. */
  private async attachLogEntry(record: SignatureRecord, kindVersion: KindVersion, leaf: Uint8Array, waitMs: number): Promise<SignatureRecord> {
    if (record.logIndex === null) return record;
    if (waitMs > 0) await this.checkpointer.waitFor(record.logIndex + 1, waitMs);
    const entry = await this.reader.entryFor(record.logIndex, kindVersion, leaf);
    if (entry) record.bundle.verificationMaterial.tlogEntries = [entry];
    return record;
  }

  private cacheIfFinal(record: SignatureRecord): SignatureRecord {
    if (record.bundle.verificationMaterial.tlogEntries.length > 0) {
      this.cache.set(record.id, record);
      this.releaseIds.set(`${record.model}@${record.version}`, record.id);
    }
    return record;
  }
}

/** What a log leaf is made of for a stored signature, given its key's public half. */
export function rowEntryFacts(row: { model: string; version: string; rootDigest: string; kid: string; payload: Uint8Array; signature: Uint8Array }, key: PublicKey): EntryFacts {
  return { subject: subjectName(row.model, row.version), rootDigest: row.rootDigest, payloadType: IN_TOTO_PAYLOAD_TYPE, payload: row.payload, kid: row.kid, key, signature: row.signature };
}

/**
 * Only a publisher signs, and only under a namespace it owns (now, not when its token was
 * issued); returns the algorithm the namespace signs with.
 */
function authorize(principal: Principal, request: SignRequest): AlgorithmId {
  const { namespace } = assertModelName(request.model);
  assertVersion(request.version);
  if (principal.role !== 'publisher' || !principal.publisherId) {
    throw new ModelsignError('forbidden_role', 'only publisher tokens may sign releases');
  }
  if (!principal.namespaces.includes(namespace)) {
    throw new ModelsignError('forbidden_namespace', `publisher ${principal.subject} does not own namespace ${JSON.stringify(namespace)}`);
  }
  return principal.signingAlgorithms[namespace] ?? DEFAULT_ALGORITHM;
}

function toRecord(row: SignatureRow): SignatureRecord {
  return {
    id: row.id,
    model: row.model,
    version: row.version,
    kid: row.kid,
    rootDigest: row.rootDigest,
    publisher: row.publisher,
    files: row.files,
    ignorePaths: row.ignorePaths,
    createdAt: row.createdAt,
    logIndex: row.logIndex,
    bundle: buildBundle({ payload: row.payload, signature: row.signature, kid: row.kid }),
  };
}
