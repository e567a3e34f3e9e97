// A C2SP tlog-witness for tests, exact to the spec (tlog-witness.md: add-checkpoint, its status
// codes, state persisted before answering), with switches for where the two real witnesses differ
// (research: witness-tiles-python.md §A.2): omniwitness answers a same-size root mismatch with a
// 409 without a body, pushes back with 429, and takes any old size on first contact; litewitness
// answers an unknown log with 403. It also serves the monitoring endpoint (`GET /<hex
// sha256(origin)>/checkpoint`: its newest cosigned checkpoint), which neither real witness has yet.
// Its state outlives a restart (close, then start again), and it records every request and answer, so tests (and the Go checker) can look at what the log sent.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { equalBytes } from '../../src/core/bytes.ts';
import { parseAddCheckpoint, TLOG_SIZE_MEDIA_TYPE } from '../../src/core/tlog/add-checkpoint.ts';
import { parseCheckpoint } from '../../src/core/tlog/checkpoint.ts';
import { RFC6962 } from '../../src/core/tlog/hash.ts';
import { verifyCheckpoint } from '../../src/core/tlog/log-note.ts';
import { parseSignedNote } from '../../src/core/tlog/signed-note.ts';
import { verifyConsistency } from '../../src/core/tlog/verify-proof.ts';
import type { PublicKey } from '../../src/core/keys/key.ts';
import { cosignEd25519, ED25519_WITNESSES } from './witness-cases.ts';

export type WitnessFlavour = 'spec' | 'omniwitness' | 'litewitness';

export interface TestWitnessOptions {
  /** Which of ED25519_WITNESSES signs (its name and key). */
  index: number;
  flavour?: WitnessFlavour;
  /** The logs it witnesses: origin and log key (or where to read it when asked: a service's own key, known once it started). */
  logs: { origin: string; key: PublicKey | (() => PublicKey | undefined) }[];
  /** Its clock, POSIX seconds. */
  now?: () => number;
}

export interface WitnessRequest {
  body: string;
  status: number;
  answer: string;
  contentType: string | undefined;
}

interface LogState {
  size: number;
  root: Uint8Array;
  /** The note it cosigned last, with its cosignature (what its monitoring endpoint would serve). */
  note: string;
}

export class TestWitness {
  readonly name: string;
  readonly vkey: string;
  flavour: WitnessFlavour;
  /** Answer 429 to every request while set (omniwitness's pushback). */
  pushback = false;
  /** Refuse to answer (connection closed) while set: a witness that is down. */
  down = false;
  readonly requests: WitnessRequest[] = [];
  readonly state = new Map<string, LogState>();
  /** Requests being handled now, and the most at once (one in flight per witness is the log's rule). */
  inFlight = 0;
  /** Reads of its monitoring endpoint. */
  monitoringReads = 0;
  maxInFlight = 0;
  /** Delay before answering (to make overlapping requests visible). */
  delayMs = 0;
  private server: Server | undefined;
  private port = 0;

  constructor(private readonly options: TestWitnessOptions) {
    const w = ED25519_WITNESSES[options.index]!;
    this.name = w.name;
    this.vkey = w.vkey;
    this.flavour = options.flavour ?? 'spec';
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** A policy line naming this witness with its URL. */
  policyLine(name: string): string {
    return `witness ${name} ${this.vkey} ${this.url}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((resolve) => (s.closeAllConnections(), s.close(() => resolve())));
  }

  /** The answers it gave, by status. */
  statuses(): number[] {
    return this.requests.map((r) => r.status);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    if (this.down) return void res.destroy();
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    const answer = (status: number, text = '', type?: string) => {
      this.inFlight--;
      this.requests.push({ body, status, answer: text, contentType: type });
      res.writeHead(status, type ? { 'content-type': type } : {});
      res.end(text);
    };
    // The monitoring endpoint (tlog-witness): the newest checkpoint it cosigned for a log, by the hex SHA-256 of its origin.
    const monitored = req.method === 'GET' ? /^\/([0-9a-f]{64})\/checkpoint$/.exec(req.url ?? '') : null;
    if (monitored) {
      // Not an add-checkpoint request: counted apart.
      this.inFlight--;
      this.monitoringReads++;
      const held = [...this.state.entries()].find(([origin]) => createHash('sha256').update(origin).digest('hex') === monitored[1]);
      res.writeHead(held ? 200 : 404, { 'content-type': 'text/plain; charset=utf-8' });
      return void res.end(held ? held[1].note : 'unknown log\n');
    }
    if (req.method !== 'POST' || req.url !== '/add-checkpoint') return answer(404, 'not found\n');
    if (body.length > 16 * 1024) return answer(400, 'request too large\n');
    if (this.pushback) return answer(429, 'pushback\n');
    let request;
    let text: string;
    try {
      request = parseAddCheckpoint(body);
      text = parseSignedNote(request.note).text;
    } catch (err) {
      return answer(400, `${(err as Error).message}\n`);
    }
    const checkpoint = parseCheckpoint(text);
    const log = this.options.logs.find((l) => l.origin === checkpoint.origin);
    const key = typeof log?.key === 'function' ? log.key() : log?.key;
    if (!key) return answer(this.flavour === 'litewitness' ? 403 : 404, 'unknown log\n');
    try {
      verifyCheckpoint(request.note, key);
    } catch {
      return answer(403, 'no valid signature by the log\'s key\n');
    }
    if (request.oldSize > checkpoint.size) return answer(400, 'old size is larger than the checkpoint\n');
    const stored = this.state.get(checkpoint.origin);
    const held = stored?.size ?? 0;
    // omniwitness trusts the first checkpoint it sees for a log whatever old size it is sent.
    const firstContact = stored === undefined && this.flavour === 'omniwitness';
    if (!firstContact && request.oldSize !== held) return answer(409, `${held}\n`, TLOG_SIZE_MEDIA_TYPE);
    if (stored && request.oldSize === checkpoint.size) {
      if (!equalBytes(stored.root, checkpoint.rootHash)) return this.flavour === 'omniwitness' ? answer(409) : answer(422, 'same size, another root\n');
      if (request.proof.length > 0) return answer(422, 'a proof between equal sizes must be empty\n');
    } else if (stored && !firstContact) {
      try {
        if (request.oldSize === 0) {
          if (request.proof.length > 0 && this.flavour !== 'litewitness') throw new Error('a proof from size 0');
        } else {
          verifyConsistency(request.oldSize, checkpoint.size, request.proof, stored.root, checkpoint.rootHash, RFC6962);
        }
      } catch (err) {
        return answer(422, `${(err as Error).message}\n`);
      }
    } else if (request.oldSize === 0 && request.proof.length > 0 && this.flavour === 'spec') {
      return answer(422, 'a proof from size 0\n');
    }
    if (this.flavour === 'spec' && checkpoint.size === 0 && !equalBytes(checkpoint.rootHash, RFC6962.emptyRoot())) return answer(422, 'the empty tree\'s root is SHA-256 of nothing\n');
    const now = this.options.now?.() ?? Math.floor(Date.now() / 1000);
    const line = cosignEd25519(this.options.index, checkpoint, now);
    // Persisted before answering (this object is its storage).
    this.state.set(checkpoint.origin, { size: checkpoint.size, root: checkpoint.rootHash, note: `${request.note}${line}\n` });
    return answer(200, `${line}\n`, 'text/plain; charset=utf-8');
  }
}
