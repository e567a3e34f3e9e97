// Signing releases. A (model, version) is immutable: the same manifest again returns the stored
// signature, a different one is refused. Signing is three steps: authorize (role and namespace),
// sign (statement, DSSE signature, log leaf), persist (the batching writer; the log index comes
// back with the commit). One release is a batch of one; reading back is signature-reader.ts.
import { randomUUID } from 'node:crypto';
import { bytesToHex, equalBytes, toBase64 } from '../core/bytes.ts';
import { IN_TOTO_PAYLOAD_TYPE, preAuthEncoding } from '../core/dsse.ts';
import { ModelsignError } from '../core/errors.ts';
import { buildManifest, type ManifestFile } from '../core/manifest.ts';
import { assertModelName, assertVersion, subjectName } from '../core/release-name.ts';
import { signatureRecordOf, type SignatureRecord } from '../core/signature-record.ts';
import { contentClaimProblem, type ContentClaim } from '../core/content-claim.ts';
import { buildStatement, encodeStatement } from '../core/statement.ts';
import type { AlgorithmId, Signer } from '../core/crypto/algorithm.ts';
import { DEFAULT_ALGORITHM } from '../core/crypto/registry.ts';
import { kindVersionKey, type EntryFacts } from '../core/tlog/entries/entry-kind.ts';
import { CURRENT_ENTRY_KIND, leafFor } from '../core/tlog/entries/registry.ts';
import type { LogHasher } from '../core/tlog/hash.ts';
import type { Database } from '../db/client.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { findReleaseSignatures, signedReleases, type SignatureInsert, type SignatureRow } from '../db/signature-store.ts';
import type { Clock } from './support/clock.ts';
import type { KeyService } from './keys.ts';
import { actorOf, type Principal } from './principal.ts';
import type { SignatureReader } from './signature-reader.ts';
import type { SignatureWriter, WriteResult } from './signature-writer.ts';

export interface SignRequest {
  model: string;
  version: string;
  files: Required<ManifestFile>[];
  ignorePaths?: string[] | undefined;
  /** Recorded as serialization.allow_symlinks. */
  allowSymlinks?: boolean | undefined;
  /** The publisher's content check, recorded in the statement (core/content-claim.ts). */
  contentCheck?: ContentClaim | undefined;
}

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
  release: string;
  payload: Uint8Array;
}

interface SignedDraft extends Draft {
  row: SignatureInsert;
  record: SignatureRecord;
  leaf: Uint8Array;
}

import type { AppendGuard } from './append-guard.ts';

export interface SigningOptions {
  /** How long a signing call waits for a checkpoint covering the new entry (config.ts). */
  tlogWaitMs: number;
}

export class SigningService {
  private readonly running = new Set<Promise<BatchOutcome[]>>();

  constructor(
    private readonly db: Database,
    private readonly keys: KeyService,
    private readonly writer: SignatureWriter,
    private readonly reader: SignatureReader,
    private readonly clock: Clock,
    private readonly hasher: LogHasher,
    private readonly options: SigningOptions,
    private readonly guard?: AppendGuard,
  ) {}

  /** Signs one release: a batch of one, whose refusal is thrown. */
  async sign(principal: Principal, request: SignRequest): Promise<{ created: boolean; record: SignatureRecord }> {
    const [outcome] = await this.signBatch(principal, [request]);
    if ('error' in outcome!) throw outcome.error;
    return outcome!;
  }

  /**
   * Signs up to MAX_BATCH releases in one request: each item gets its own outcome (201 new, 200 the
   * same manifest again, 409 conflict, 403 a namespace the publisher does not own, 400 invalid),
   * and the new signatures are stored in one statement: all of them, or none.
   */
  async signBatch(principal: Principal, requests: SignRequest[]): Promise<BatchOutcome[]> {
    const run = this.signAll(principal, requests);
    this.running.add(run);
    try {
      return await run;
    } finally {
      this.running.delete(run);
    }
  }

  /** Signing calls in progress. */
  get inFlight(): number {
    return this.running.size;
  }

  /**
   * Settles once no signing call is in progress. The HTTP server's close waits for connections,
   * not handlers: a request whose client has gone may still be signing, and closing the database
   * under it would fail its write and log an outage that is not one. Shutdown waits here first.
   */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private async signAll(principal: Principal, requests: SignRequest[]): Promise<BatchOutcome[]> {
    if (requests.length > MAX_BATCH) throw new ModelsignError('validation_failed', `a batch holds at most ${MAX_BATCH} releases`, [{ path: 'items', message: `at most ${MAX_BATCH}` }]);
    if (principal.role !== 'publisher' || !principal.publisherId) throw new ModelsignError('forbidden_role', 'only publisher tokens may sign releases');
    this.guard?.assertCanAppend();
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
      if (d && !first.has(d.release)) first.set(d.release, i);
    });
    for (let attempt = 0; ; attempt++) {
      const leaders = [...first.values()].filter((i) => outcomes[i] === undefined);
      // Most releases are new. One release is written first and looked up only if the write
      // finds it stored (one query fewer on the common path); a batch asks which are signed
      // (cheap), then reads only those, so that nothing already signed is signed again.
      const existing = leaders.length === 1 && attempt === 0 ? new Map<string, SignatureRow>() : await this.storedReleases(leaders.map((i) => requests[i]!));
      const fresh: Draft[] = [];
      for (const i of leaders) {
        const draft = drafts[i]!;
        const row = existing.get(draft.release);
        if (row) outcomes[i] = await this.alreadySigned(draft, row);
        else fresh.push(draft);
      }
      if (fresh.length === 0) break;
      const drafted = await this.signDrafts(principal, fresh);
      let results: WriteResult[];
      try {
        results = await this.writer.writeAll(drafted.map((d) => d.row));
      } catch (err) {
        // Another instance stored one of these releases between the look-up and the write (the
        // unique index refused the statement): look again, once. Any other failure is the
        // request's: nothing was stored, and it is answered as a failure, never retried unseen.
        if (attempt === 0 && isUniqueViolation(err)) continue;
        throw err;
      }
      const stored = await Promise.all(drafted.map((d, k) => (results[k]!.inserted ? this.withEntry(d, results[k]!.logIndex).then((record) => ({ created: true, record })) : undefined)));
      stored.forEach((f, k) => {
        if (f) outcomes[first.get(drafted[k]!.release)!] = f;
      });
      // Rows another instance stored meanwhile: they are looked up on the next round.
      if (stored.every((f) => f !== undefined) || attempt > 0) break;
    }
    for (const [i, draft] of drafts.entries()) {
      if (!draft || outcomes[i]) continue;
      const lead = first.get(draft.release)!;
      const leader = outcomes[lead];
      if (!leader || 'error' in leader) {
        outcomes[i] = leader ?? { error: new ModelsignError('internal_error', `${draft.release} was neither stored nor found`) };
      } else if (equalBytes(drafts[lead]!.payload, draft.payload)) {
        outcomes[i] = { created: false, record: leader.record };
      } else {
        outcomes[i] = { error: new ModelsignError('release_conflict', `${draft.release} appears earlier in this batch (item ${lead}) with a different manifest; releases are immutable`) };
      }
    }
    return outcomes.map((o) => o ?? { error: new ModelsignError('internal_error', 'an item was left without an outcome') });
  }

  /** The stored rows of those of `releases` that are signed, by `model@version`. */
  private async storedReleases(releases: SignRequest[]): Promise<Map<string, SignatureRow>> {
    const signed = await signedReleases(this.db, releases);
    return findReleaseSignatures(this.db.prisma, releases.filter((r) => signed.has(`${r.model}@${r.version}`)));
  }

  /** Checks who may sign what, and builds the statement; nothing is signed yet. */
  private draft(principal: Principal, request: SignRequest): Draft {
    const algorithm = authorize(principal, request);
    const manifest = buildManifest(request.files, request.ignorePaths ?? []);
    const subject = subjectName(request.model, request.version);
    const content = request.contentCheck ? orderedClaim(request.contentCheck, manifest.files.map((f) => f.path)) : undefined;
    const statement = buildStatement(subject, manifest, request.allowSymlinks === true, content);
    return { request, algorithm, manifest, subject, release: `${request.model}@${request.version}`, payload: encodeStatement(statement) };
  }

  /** Signs drafts together: per algorithm, through the signer's signMany when it has one. */
  private async signDrafts(principal: Principal, drafts: Draft[]): Promise<SignedDraft[]> {
    const signed: SignedDraft[] = new Array(drafts.length);
    for (const algorithm of new Set(drafts.map((d) => d.algorithm))) {
      const signer = this.keys.signer('release', algorithm);
      const mine = [...drafts.keys()].filter((i) => drafts[i]!.algorithm === algorithm);
      const messages = mine.map((i) => preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, drafts[i]!.payload));
      // One message is signed in place: signMany's trip to a thread pool costs more than it saves.
      const signatures = messages.length > 1 && signer.signMany ? await signer.signMany(messages) : await Promise.all(messages.map((m) => signer.sign(m)));
      mine.forEach((i, k) => (signed[i] = this.signedDraft(principal, drafts[i]!, signer, signatures[k]!)));
    }
    return signed;
  }

  private signedDraft(principal: Principal, draft: Draft, signer: Signer, signature: Uint8Array): SignedDraft {
    const { request, manifest, payload } = draft;
    const id = randomUUID();
    const now = this.clock.now();
    // The manifest is built from request.files, each of which has its size (SignRequest).
    const files = manifest.files.map((f) => ({ path: f.path, sha256: f.sha256, size: f.size! }));
    const identity = principal.identity;
    const record = signatureRecordOf({
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
      identity,
      payload,
      signature,
    });
    const envelope = record.bundle.dsseEnvelope;
    const facts: EntryFacts = { subject: draft.subject, rootDigest: manifest.rootDigest, payloadType: IN_TOTO_PAYLOAD_TYPE, payload, kid: signer.kid, key: { algorithm: signer.algorithm, publicKey: signer.publicKey }, signature };
    // Made once: its hash goes to the log, the data itself into the bundle's entry.
    const leaf = leafFor(CURRENT_ENTRY_KIND, facts, this.hasher.sha256);
    const row: SignatureInsert = {
      id,
      model: request.model,
      version: request.version,
      rootDigest: manifest.rootDigest,
      files,
      ignorePaths: manifest.ignorePaths,
      payloadB64: envelope.payload,
      signatureB64: envelope.signatures[0]!.sig,
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
      leafB64: toBase64(leaf),
      entryKind: kindVersionKey(CURRENT_ENTRY_KIND),
      tokenJti: identity.tokenJti,
      identity,
    };
    return { ...draft, row, record, leaf };
  }

  /** A new signature's record with its log entry, waiting for the checkpoint that covers it. */
  private withEntry(draft: SignedDraft, logIndex: number | null): Promise<SignatureRecord> {
    return this.reader.withLogEntry({ ...draft.record, logIndex }, CURRENT_ENTRY_KIND, draft.leaf, this.options.tlogWaitMs);
  }

  /** The stored signature when it signed the same statement; release_conflict otherwise. */
  private async alreadySigned(draft: Draft, existing: SignatureRow): Promise<BatchOutcome> {
    if (!equalBytes(existing.payload, draft.payload)) {
      return {
        error: new ModelsignError(
          'release_conflict',
          `${draft.release} is already signed (signature ${existing.id}, root digest ${existing.rootDigest}) with a different manifest; publish a new version instead`,
          [{ message: 'existing signature', id: existing.id, rootDigest: existing.rootDigest }],
        ),
      };
    }
    return { created: false, record: await this.reader.withRowEntry(existing, this.options.tlogWaitMs) };
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
