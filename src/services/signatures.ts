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
import { publicIdentity, type SignerIdentity } from '../core/oidc/identity.ts';
import type { SignatureRecord, SignatureSummary } from '../core/signature-record.ts';
import { contentClaimProblem, type ContentClaim } from '../core/content-claim.ts';
import { buildStatement, encodeStatement } from '../core/statement.ts';
import type { AlgorithmId, Signer } from '../core/crypto/algorithm.ts';
import { DEFAULT_ALGORITHM } from '../core/crypto/registry.ts';
import { kindVersionKey, rowEntryFacts, type EntryFacts, type KindVersion } from '../core/tlog/entries/entry-kind.ts';
import { CURRENT_ENTRY_KIND, entryKindNamed, leafFor } from '../core/tlog/entries/registry.ts';
import type { LogHasher } from '../core/tlog/hash.ts';
import type { Database } from '../db/client.ts';
import { databaseFailure } from '../db/errors.ts';
import { countSignaturesByKey, findReleaseSignature, findReleaseSignatures, findSignature, signedReleases, listSignatureSummaries, type SignatureInsert, type SignatureRow } from '../db/signature-store.ts';
import type { Checkpointer } from './checkpointer.ts';
import type { Clock } from './clock.ts';
import type { KeyService } from './keys.ts';
import type { LogReader } from './log-reader.ts';
import { actorOf, type Principal } from './principal.ts';
import type { SignatureWriter, WriteResult } from './signature-writer.ts';

export type { SignatureRecord, SignatureSummary };

export interface SignRequest {
  model: string;
  version: string;
  files: ManifestFile[];
  ignorePaths?: string[] | undefined;
  /** Recorded as serialization.allow_symlinks. */
  allowSymlinks?: boolean | undefined;
  /** The publisher's content check, recorded in the statement (core/content-claim.ts). */
  contentCheck?: ContentClaim | undefined;
}

export interface ListQuery {
  model?: string | undefined;
  /** Every model under this namespace. */
  namespace?: string | undefined;
  version?: string | undefined;
  sha256?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

// A signature is logged in its own transaction and a signed checkpoint normally follows within
// a second or two; five seconds covers a slow checkpoint for the revocation estimate.
const CHECKPOINT_MARGIN_MS = 5_000;

/** Releases one batch request signs at most. */
export const MAX_BATCH = 100;

/** One item of a batch: signed (created: false when the same manifest was signed before), or refused. */
export type BatchOutcome = { created: boolean; record: SignatureRecord } | { error: ModelsignError };

interface Draft {
  request: SignRequest;
  algorithm: AlgorithmId;
  manifest: ReturnType<typeof buildManifest>;
  subject: string;
  /** `model@version`. */
  key: string;
  payload: Uint8Array;
}

interface SignedDraft extends Draft {
  row: SignatureInsert;
  record: SignatureRecord;
  leaf: Uint8Array;
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
    const draft = await this.signDraft(principal, this.draft(principal, request));
    const result = await this.writer.write(draft.row);
    if (result.inserted) return { created: true, record: await this.finish(draft, result.logIndex) };
    const existing = await findReleaseSignature(this.db.prisma, request.model, request.version);
    if (!existing) throw new ModelsignError('internal_error', `${request.model}@${request.version} was neither stored nor found`);
    return { created: false, record: await this.repeat(draft, existing) };
  }

  /**
   * Signs up to MAX_BATCH releases in one request: each item gets its own outcome (201 new, 200 the
   * same manifest again, 409 conflict, 403 a namespace the publisher does not own, 400 invalid),
   * and the new signatures are stored in one statement: all of them, or none.
   */
  async signBatch(principal: Principal, requests: SignRequest[]): Promise<BatchOutcome[]> {
    if (requests.length > MAX_BATCH) throw new ModelsignError('validation_failed', `a batch holds at most ${MAX_BATCH} releases`, [{ path: 'items', message: `at most ${MAX_BATCH}` }]);
    if (principal.role !== 'publisher' || !principal.publisherId) throw new ModelsignError('forbidden_role', 'only publisher tokens may sign releases');
    const outcomes: (BatchOutcome | undefined)[] = new Array(requests.length);
    const drafts: (Draft | undefined)[] = requests.map((request, i) => {
      try {
        return this.draft(principal, request);
      } catch (err) {
        if (!(err instanceof ModelsignError)) throw err;
        outcomes[i] = { error: err };
        return undefined;
      }
    });
    // The first item naming a release stands for it; later ones repeat it or conflict with it.
    const first = new Map<string, number>();
    drafts.forEach((d, i) => {
      if (d && !first.has(d.key)) first.set(d.key, i);
    });
    for (let attempt = 0; ; attempt++) {
      const leaders = [...first.values()].filter((i) => outcomes[i] === undefined);
      // Most releases of a batch are new: ask which are signed (cheap), then read only those.
      const signed = await signedReleases(this.db, leaders.map((i) => requests[i]!));
      const existing = await findReleaseSignatures(this.db.prisma, leaders.filter((i) => signed.has(drafts[i]!.key)).map((i) => requests[i]!));
      const fresh: Draft[] = [];
      for (const i of leaders) {
        const draft = drafts[i]!;
        const row = existing.get(draft.key);
        if (row) outcomes[i] = await this.settle(() => this.repeat(draft, row));
        else fresh.push(draft);
      }
      if (fresh.length === 0) break;
      const drafted = await this.signDrafts(principal, fresh);
      let results: WriteResult[];
      try {
        results = await this.writer.writeAll(drafted.map((d) => d.row));
      } catch (err) {
        // Another instance stored one of these releases between the look-up and the write (the
        // unique index refused the statement): look again, once.
        if (attempt === 0 && !databaseFailure(err)) continue;
        throw err;
      }
      const finished = await Promise.all(drafted.map((d, k) => (results[k]!.inserted ? this.finish(d, results[k]!.logIndex).then((record) => ({ created: true, record })) : undefined)));
      finished.forEach((f, k) => {
        if (f) outcomes[first.get(drafted[k]!.key)!] = f;
      });
      // Rows another instance stored meanwhile: they are looked up on the next round.
      if (finished.every((f) => f !== undefined) || attempt > 0) break;
    }
    for (const [i, draft] of drafts.entries()) {
      if (!draft || outcomes[i]) continue;
      const lead = first.get(draft.key)!;
      const leader = outcomes[lead];
      if (!leader || 'error' in leader) {
        outcomes[i] = leader ?? { error: new ModelsignError('internal_error', `${draft.key} was neither stored nor found`) };
      } else if (equalBytes(drafts[lead]!.payload, draft.payload)) {
        outcomes[i] = { created: false, record: leader.record };
      } else {
        outcomes[i] = { error: new ModelsignError('release_conflict', `${draft.key} appears earlier in this batch (item ${lead}) with a different manifest; releases are immutable`) };
      }
    }
    return outcomes.map((o) => o ?? { error: new ModelsignError('internal_error', 'an item was left without an outcome') });
  }

  /** A signature with the identity behind it, for admins and auditors. */
  async getWithIdentity(id: string): Promise<{ record: SignatureRecord; identity: SignerIdentity | null }> {
    const row = isUuid(id) ? await findSignature(this.db.prisma, id) : undefined;
    if (!row) throw new ModelsignError('not_found', `no signature ${JSON.stringify(id)}`);
    return { record: await this.attachRowEntry(row, 0), identity: row.identity };
  }

  /** Checks who may sign what, and builds the statement; nothing is signed yet. */
  private draft(principal: Principal, request: SignRequest): Draft {
    const algorithm = authorize(principal, request);
    const manifest = buildManifest(request.files, request.ignorePaths ?? []);
    const subject = subjectName(request.model, request.version);
    const content = request.contentCheck ? orderedClaim(request.contentCheck, manifest.files.map((f) => f.path)) : undefined;
    const statement = buildStatement(subject, manifest, request.allowSymlinks === true, content);
    return { request, algorithm, manifest, subject, key: `${request.model}@${request.version}`, payload: encodeStatement(statement) };
  }

  /** Signs drafts together: per algorithm, through the signer's signMany when it has one. */
  private async signDrafts(principal: Principal, drafts: Draft[]): Promise<SignedDraft[]> {
    const signed: SignedDraft[] = new Array(drafts.length);
    for (const algorithm of new Set(drafts.map((d) => d.algorithm))) {
      const signer = this.keys.signer('release', algorithm);
      const mine = [...drafts.keys()].filter((i) => drafts[i]!.algorithm === algorithm);
      const messages = mine.map((i) => preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, drafts[i]!.payload));
      const signatures = signer.signMany ? await signer.signMany(messages) : await Promise.all(messages.map((m) => signer.sign(m)));
      mine.forEach((i, k) => (signed[i] = this.signedDraft(principal, drafts[i]!, signer, signatures[k]!)));
    }
    return signed;
  }

  private async signDraft(principal: Principal, draft: Draft): Promise<SignedDraft> {
    const signer = this.keys.signer('release', draft.algorithm);
    return this.signedDraft(principal, draft, signer, await signer.sign(preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, draft.payload)));
  }

  private signedDraft(principal: Principal, draft: Draft, signer: Signer, signature: Uint8Array): SignedDraft {
    const { request, manifest, payload } = draft;
    const id = randomUUID();
    const now = this.clock.now();
    const files = manifest.files.map((f) => ({ path: f.path, sha256: f.sha256, size: f.size }));
    const bundle = buildBundle({ payload, signature, kid: signer.kid });
    const facts: EntryFacts = { subject: draft.subject, rootDigest: manifest.rootDigest, payloadType: IN_TOTO_PAYLOAD_TYPE, payload, kid: signer.kid, key: { algorithm: signer.algorithm, publicKey: signer.publicKey }, signature };
    // Made once: its hash goes to the log, the data itself into the bundle's entry.
    const leaf = leafFor(CURRENT_ENTRY_KIND, facts, this.hasher.sha256);
    const identity = principal.identity;
    const row: SignatureInsert = {
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
      details: {
        model: request.model,
        version: request.version,
        rootDigest: manifest.rootDigest,
        kid: signer.kid,
        files: files.length,
        ...(identity.method === 'oidc' ? { exchange: identity.exchangeId, repository: identity.repository } : {}),
      },
      leafHash: bytesToHex(this.hasher.hashLeaf(leaf)),
      entryKind: kindVersionKey(CURRENT_ENTRY_KIND),
      tokenJti: identity.tokenJti,
      identity,
    };
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
      logIndex: null,
      identity: publicIdentity(identity),
      bundle,
    };
    return { ...draft, row, record, leaf };
  }

  private finish(draft: SignedDraft, logIndex: number | null): Promise<SignatureRecord> {
    return this.attachLogEntry({ ...draft.record, logIndex }, CURRENT_ENTRY_KIND, draft.leaf, this.options.tlogWaitMs);
  }

  /** The stored signature when it signed the same statement; release_conflict otherwise. */
  private async repeat(draft: Draft, existing: SignatureRow): Promise<SignatureRecord> {
    if (!equalBytes(existing.payload, draft.payload)) {
      throw new ModelsignError(
        'release_conflict',
        `${draft.key} is already signed (signature ${existing.id}, root digest ${existing.rootDigest}) with a different manifest; publish a new version instead`,
        [{ message: 'existing signature', id: existing.id, rootDigest: existing.rootDigest }],
      );
    }
    return this.attachRowEntry(existing, this.options.tlogWaitMs);
  }

  private async settle(make: () => Promise<SignatureRecord>): Promise<BatchOutcome> {
    try {
      return { created: false, record: await make() };
    } catch (err) {
      if (err instanceof ModelsignError && err.code === 'release_conflict') return { error: err };
      throw err;
    }
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

  /**
   * What revoking `kid` as of `compromisedAt` would cost: its signatures made at or after that
   * time become invalid, and so do those made in the second before it whose log entry came later
   * (a log entry's time is the second its checkpoint was signed); `atRisk` counts those too.
   */
  async countByKey(kid: string, compromisedAt: Date): Promise<{ kid: string; compromisedAt: string; total: number; invalidated: number; atRisk: number }> {
    const counts = await countSignaturesByKey(this.db, kid, compromisedAt, new Date(compromisedAt.getTime() - CHECKPOINT_MARGIN_MS));
    return { kid, compromisedAt: compromisedAt.toISOString(), total: counts.total, invalidated: counts.since, atRisk: counts.earlier };
  }

  /** Newest first; the cursor is opaque to clients (the last row's insertion sequence). */
  async list(query: ListQuery): Promise<{ items: SignatureSummary[]; nextCursor: string | null }> {
    let before: bigint | undefined;
    if (query.cursor !== undefined) {
      if (!/^[1-9][0-9]{0,18}$/.test(query.cursor)) throw new ModelsignError('validation_failed', 'cursor is not one this service returned', [{ path: 'cursor', message: 'invalid cursor' }]);
      before = BigInt(query.cursor);
    }
    const rows = await listSignatureSummaries(this.db.prisma, { model: query.model, namespace: query.namespace, version: query.version, sha256: query.sha256, before, limit: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    return {
      items: page.map(({ seq: _seq, ...summary }) => summary),
      nextCursor: rows.length > query.limit ? String(page[page.length - 1]!.seq) : null,
    };
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

/** The claim checked against the manifest and put in its order. */
function orderedClaim(claim: ContentClaim, paths: string[]): ContentClaim {
  const problem = contentClaimProblem(claim, paths);
  if (problem) throw new ModelsignError('invalid_content_check', problem);
  const order = new Map(paths.map((p, i) => [p, i]));
  const files = [...claim.files].sort((a, b) => order.get(a.name)! - order.get(b.name)!).map((f) => ({ name: f.name, verdict: f.verdict, ...(f.format !== undefined ? { format: f.format } : {}) }));
  return { checker: claim.checker, allowlist: claim.allowlist, ...(claim.torch !== undefined ? { torch: claim.torch } : {}), files };
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
    identity: publicIdentity(row.identity),
    bundle: buildBundle({ payload: row.payload, signature: row.signature, kid: row.kid }),
  };
}
