// C2SP tlog-witness's add-checkpoint body and answers, and which origins a witness can tell apart.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatAddCheckpoint, parseAddCheckpoint, parseCosignatureLines, parseTlogSize, witnessOriginProblem } from '../../../src/core/tlog/add-checkpoint.ts';
import { signCheckpoint } from '../../../src/core/tlog/log-note.ts';
import { referenceSigner } from '../../support/signers.ts';
import { cosignEd25519 } from '../../support/witness-cases.ts';

const signer = referenceSigner(new Uint8Array(32).fill(3));
const checkpoint = { origin: 'log.example.com', size: 5, rootHash: new Uint8Array(32).fill(1) };

describe('add-checkpoint', () => {
  it('writes the spec\'s body (old size, proof lines, a blank line, the note) and reads it back', async () => {
    const note = await signCheckpoint(checkpoint, signer, 1_800_000_000);
    const proof = [new Uint8Array(32).fill(2), new Uint8Array(32).fill(3)];
    const body = formatAddCheckpoint({ oldSize: 3, proof, note });
    assert.ok(body.startsWith(`old 3\n${Buffer.from(proof[0]!).toString('base64')}\n${Buffer.from(proof[1]!).toString('base64')}\n\nlog.example.com\n5\n`));
    assert.deepEqual(parseAddCheckpoint(body), { oldSize: 3, proof, note });
    assert.deepEqual(parseAddCheckpoint(formatAddCheckpoint({ oldSize: 0, proof: [], note })).proof, []);
    for (const bad of ['old 03\n\n' + note, 'old 3\nnot base64\n\n' + note, 'new 3\n\n' + note, 'old 3\n' + note.replace('\n\n', '\n')]) assert.throws(() => parseAddCheckpoint(bad), /old|proof|note|blank|signature/);
  });

  it('reads a witness\'s signature lines and its text/x.tlog.size answers', () => {
    const line = cosignEd25519(0, checkpoint, 1_800_000_000);
    const [parsed] = parseCosignatureLines(`${line}\n`);
    assert.equal(parsed!.line, line);
    assert.equal(parsed!.signature.name, 'witness-0.example.org');
    assert.throws(() => parseCosignatureLines(''), /one to 100/);
    assert.throws(() => parseCosignatureLines('not a line\n'), /bad signature line/);
    assert.equal(parseTlogSize('20852014\n'), 20852014);
    assert.equal(parseTlogSize('0'), 0);
    for (const bad of ['', '-1\n', '01\n', '1 2\n', '99999999999999999999\n']) assert.throws(() => parseTlogSize(bad), /not a tree size/);
  });

  it('refuses origins that many logs share: localhost, an IP address, a name without a dot, the 0.1 default', () => {
    for (const origin of ['localhost', 'localhost:8080', 'ci.localhost', '127.0.0.1', '10.0.0.1/log', '[::1]', 'modelsign', 'modelsign.local/log']) assert.ok(witnessOriginProblem(origin), origin);
    for (const origin of ['models.example.com', 'example.com/modelsign/log', 'tlog.modelsign.test']) assert.equal(witnessOriginProblem(origin), undefined, origin);
  });
});
