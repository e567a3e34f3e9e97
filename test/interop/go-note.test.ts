// Go's own note code (golang.org/x/mod/sumdb/note, Debian's golang-golang-x-mod-dev, GOPATH mode)
// against modelsign's witness notes: it opens the vectors' 34-line checkpoint (the log's 0x01
// line and sixteen Ed25519 cosignatures verify; the log's own 0x04 line and the ML-DSA-44 lines
// are unknown to it), refuses the 101-line one as modelsign does, and makes a cosignature that
// modelsign's policy check accepts, byte for byte the line modelsign's test witness makes.
// Tier: external (it drives Go's note code)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { parseCheckpoint } from '../../src/core/tlog/checkpoint.ts';
import { parseSignedNote } from '../../src/core/tlog/signed-note.ts';
import { formatVkey, NOTE_TYPE } from '../../src/core/tlog/vkey.ts';
import { evaluateQuorum, parseWitnessPolicy } from '../../src/core/tlog/witness-policy.ts';
import { cosignEd25519, ED25519_WITNESSES } from '../support/witness-cases.ts';
import { witnessVectors } from '../support/witness-vectors.ts';
import { buildGo, goSkip } from './support/go.ts';

describe('Go\'s sumdb/note on witness notes', { skip: goSkip }, () => {
  let bin: string;
  let remove = () => {};
  before(() => {
    ({ bin, remove } = buildGo('go-note'));
  });
  after(() => remove());

  const vectors = witnessVectors();
  const noteOf = (name: string) => {
    const proof = vectors.cases.find((c) => c.name === name)!.proof!;
    return proof.slice(proof.indexOf('\n\n') + 2);
  };
  const logVkey = () => {
    const log = vectors.keys.keys.find((k) => k.purpose === 'log')!;
    return formatVkey('log.example.com', NOTE_TYPE.ed25519, Buffer.from(log.x as string, 'base64url'));
  };
  const go = (args: string[], input: string) => spawnSync(bin, args, { input, encoding: 'utf8' });

  it('opens the 34-line checkpoint: the log\'s signature and the sixteen Ed25519 cosignatures verify', () => {
    const res = go(['open', logVkey(), ...ED25519_WITNESSES.map((w) => w.vkey)], noteOf('thirty-four-lines'));
    assert.equal(res.status, 0, res.stderr);
    const verified = res.stdout.split('\n').filter((l) => l.startsWith('verified '));
    assert.equal(verified.length, 17);
    assert.ok(verified.some((l) => l.startsWith('verified log.example.com ')));
    assert.match(res.stdout, /^unverified 17$/m, 'the log\'s timestamp line and sixteen ML-DSA-44 lines are unknown keys');
  });

  it('refuses the 101-line checkpoint, as modelsign does', () => {
    const res = go(['open', logVkey()], noteOf('one-hundred-one-lines'));
    assert.equal(res.status, 1);
    assert.match(res.stderr, /malformed note/);
  });

  it('makes an Ed25519 cosignature that modelsign accepts, the same bytes modelsign\'s witness makes', () => {
    const note = noteOf('proof-meets-quorum');
    const text = parseSignedNote(note).text;
    const checkpoint = parseCheckpoint(text);
    const w = ED25519_WITNESSES[9]!;
    const timestamp = 1_800_000_123;
    const res = go(['cosign', w.name, Buffer.from(w.seed).toString('hex'), String(timestamp)], note);
    assert.equal(res.status, 0, res.stderr);
    const added = res.stdout.trimEnd().split('\n').at(-1)!;
    assert.equal(added, cosignEd25519(9, checkpoint, timestamp));
    const quorum = evaluateQuorum(parseWitnessPolicy(`witness nine ${w.vkey}\nquorum nine\n`), parseSignedNote(res.stdout), checkpoint, timestamp);
    assert.equal(quorum.met, true);
  });
});
