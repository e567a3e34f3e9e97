// Reading release signatures back: by id, by release, in pages, and what a key's revocation would
// cost; each record with its log entry attached once a checkpoint covers it. Complete records are
// cached (they do not change until a key does); signing (signing.ts) hands new records here to get
// their entries.
import { LRUCache } from 'lru-cache';
import { ModelsignError } from '../core/errors.ts';
import { isUuid } from '../core/ids.ts';
import type { SignerIdentity } from '../core/oidc/identity.ts';
import { signatureRecordOf, type SignatureRecord, type SignatureSummary } from '../core/signature-record.ts';
import { rowEntryFacts, type KindVersion } from '../core/tlog/entries/entry-kind.ts';
import { entryKindNamed } from '../core/tlog/entries/registry.ts';
import type { LogHasher } from '../core/tlog/hash.ts';
import type { Database } from '../db/client.ts';
import { countSignaturesByKey, findReleaseSignature, findSignature, listSignatureSummaries, type SignatureRow } from '../db/signature-store.ts';
import type { Checkpointer } from './checkpointer.ts';
import type { KeyService } from './keys.ts';
import type { LogReader } from './log-reader.ts';

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

export class SignatureReader {
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
    private readonly log: LogReader,
    private readonly checkpointer: Checkpointer,
    private readonly hasher: LogHasher,
  ) {}

  async get(id: string): Promise<SignatureRecord> {
    const cached = this.cache.get(id);
    if (cached) return cached;
    const row = isUuid(id) ? await findSignature(this.db.prisma, id) : undefined;
    if (!row) throw new ModelsignError('not_found', `no signature ${JSON.stringify(id)}`);
    return this.cacheIfFinal(await this.withRowEntry(row, 0));
  }

  /** A signature with the identity behind it, for admins and auditors. */
  async getWithIdentity(id: string): Promise<{ record: SignatureRecord; identity: SignerIdentity | null }> {
    const row = isUuid(id) ? await findSignature(this.db.prisma, id) : undefined;
    if (!row) throw new ModelsignError('not_found', `no signature ${JSON.stringify(id)}`);
    return { record: await this.withRowEntry(row, 0), identity: row.identity };
  }

  async findRelease(model: string, version: string): Promise<SignatureRecord | undefined> {
    const id = this.releaseIds.get(`${model}@${version}`);
    const cached = id === undefined ? undefined : this.cache.get(id);
    if (cached) return cached;
    const row = await findReleaseSignature(this.db.prisma, model, version);
    return row ? this.cacheIfFinal(await this.withRowEntry(row, 0)) : undefined;
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

  /**
   * What revoking `kid` as of `compromisedAt` would cost: its signatures made at or after that
   * time become invalid, and so do those made in the second before it whose log entry came later
   * (a log entry's time is the second its checkpoint was signed); `atRisk` counts those too.
   */
  async countByKey(kid: string, compromisedAt: Date): Promise<{ kid: string; compromisedAt: string; total: number; invalidated: number; atRisk: number }> {
    const counts = await countSignaturesByKey(this.db, kid, compromisedAt, new Date(compromisedAt.getTime() - CHECKPOINT_MARGIN_MS));
    return { kid, compromisedAt: compromisedAt.toISOString(), total: counts.total, invalidated: counts.since, atRisk: counts.earlier };
  }

  /** Drops every cached record (a key changed: an entry may now need another checkpoint). */
  dropCache(): void {
    this.cache.clear();
    this.releaseIds.clear();
  }

  /** A stored row as a record, its entry attached (waiting up to `waitMs` for a checkpoint). */
  async withRowEntry(row: SignatureRow, waitMs: number): Promise<SignatureRecord> {
    const kind = entryKindNamed(row.entryKind);
    const facts = rowEntryFacts(row, await this.keys.publicKey(row.kid));
    return this.withLogEntry(signatureRecordOf(row), kind.kindVersion, kind.leafData(facts, this.hasher.sha256), waitMs);
  }

  /** The record with its tlog entry (of `kindVersion`, leaf data `leaf`) attached when the log has one for it. */
  async withLogEntry(record: SignatureRecord, kindVersion: KindVersion, leaf: Uint8Array, waitMs: number): Promise<SignatureRecord> {
    if (record.logIndex === null) return record;
    if (waitMs > 0) await this.checkpointer.waitFor(record.logIndex + 1, waitMs);
    const entry = await this.log.entryFor(record.logIndex, kindVersion, leaf);
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
