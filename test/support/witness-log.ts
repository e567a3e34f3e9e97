// A log for witness tests, made here: leaves in a naive RFC 6962 tree (naive-merkle.ts), an
// Ed25519 log key from a fixed seed, checkpoints signed as C2SP notes, add-checkpoint bodies
// with real consistency proofs, and (when served) `<url>/checkpoint` answering what the test sets
// (what a log shows after collecting cosignatures). Used by the parametrised witness suite against
// the test witness and `modelsign witness`.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatAddCheckpoint } from '../../src/core/tlog/add-checkpoint.ts';
import type { Checkpoint } from '../../src/core/tlog/checkpoint.ts';
import { signCheckpoint } from '../../src/core/tlog/log-note.ts';
import { formatVkey, NOTE_TYPE } from '../../src/core/tlog/vkey.ts';
import { NaiveTree, naiveLeafHash } from './naive-merkle.ts';
import { referenceSigner } from './signers.ts';

export class WitnessTestLog {
  readonly signer;
  readonly tree: NaiveTree;
  /** What `<url>/checkpoint` answers (undefined: 404). */
  served: string | undefined;
  private server: Server | undefined;
  url = '';

  constructor(
    readonly origin: string,
    seedByte: number,
    size = 64,
  ) {
    this.signer = referenceSigner(new Uint8Array(32).fill(seedByte));
    this.tree = new NaiveTree(Array.from({ length: size }, (_, i) => naiveLeafHash(new TextEncoder().encode(`${origin} leaf ${i}`))));
  }

  get vkey(): string {
    return formatVkey(this.origin, NOTE_TYPE.ed25519, this.signer.publicKey);
  }

  get key() {
    return { algorithm: 'Ed25519' as const, publicKey: this.signer.publicKey };
  }

  checkpoint(size: number): Checkpoint {
    return { origin: this.origin, size, rootHash: this.tree.root(size) };
  }

  note(size: number, checkpoint = this.checkpoint(size)): Promise<string> {
    return signCheckpoint(checkpoint, this.signer, 1_780_000_000 + size);
  }

  /** An add-checkpoint body from `old` to `size` with the real proof (or `proof` as given). */
  async request(old: number, size: number, o: { proof?: Uint8Array[]; note?: string } = {}): Promise<string> {
    const proof = o.proof ?? (old > 0 && old < size ? this.tree.consistency(old, size) : []);
    return formatAddCheckpoint({ oldSize: old, proof, note: o.note ?? (await this.note(size)) });
  }

  async serve(): Promise<this> {
    this.server = createServer((req, res) => {
      if (req.url === '/checkpoint' && this.served !== undefined) return void res.writeHead(200, { 'content-type': 'text/plain' }).end(this.served);
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((resolve) => (s.closeAllConnections(), s.close(() => resolve())));
  }
}
