import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { ed25519PublicKey } from '../../../src/core/crypto/ed25519.ts';
import { formatCheckpoint, parseCheckpoint } from '../../../src/core/tlog/checkpoint.ts';
import { cosignedMessage, signCheckpoint, verifyCheckpoint } from '../../../src/core/tlog/log-note.ts';
import { formatSignedNote, noteKeyId, parseSignedNote } from '../../../src/core/tlog/signed-note.ts';
import { TlogError } from '../../../src/core/tlog/tlog-error.ts';
import { referenceSigner } from '../../support/signers.ts';

const seed = new Uint8Array(32).fill(3);
const key = referenceSigner(seed);
const root = new Uint8Array(32).fill(9);
const code = (fn: () => unknown) => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof TlogError, String(e));
    return e.code;
  }
};

describe('C2SP signed notes and checkpoints', () => {
  it('parses the examples of the signed-note and tlog-checkpoint specs', () => {
    const note =
      'Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n\n— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n';
    const parsed = parseSignedNote(note);
    assert.equal(parsed.text, 'Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n');
    assert.equal(parsed.signatures.length, 1);
    assert.equal(parsed.signatures[0]!.name, 'quasimodo.example/salvatore');
    assert.equal(parsed.signatures[0]!.keyId, 0x367ba04b);
    assert.equal(parsed.signatures[0]!.signature.length, 64);
    assert.equal(formatSignedNote(parsed), note);

    const checkpoint =
      'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n';
    const c = parseCheckpoint(parseSignedNote(checkpoint).text);
    assert.equal(c.origin, 'example.com/behind-the-sofa');
    assert.equal(c.size, 20852163);
    assert.equal(formatCheckpoint(c), 'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n');
  });

  it('computes key IDs as SHA-256(name || 0x0A || type || key)[:4]', () => {
    for (const type of [0x01, 0x04]) {
      const h = createHash('sha256').update('example.com/log').update(Buffer.from([0x0a, type])).update(key.publicKey).digest();
      assert.equal(noteKeyId('example.com/log', type, key.publicKey), h.readUInt32BE(0));
    }
  });

  it('builds the cosigned message of tlog-cosignature exactly', () => {
    assert.equal(
      new TextDecoder().decode(cosignedMessage(1679315147, 'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n')),
      'cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n',
    );
  });

  it('signs a checkpoint with a note signature and a timestamp cosignature that verify', async () => {
    const note = await signCheckpoint({ origin: 'example.com/log', size: 42, rootHash: root }, key, 1_800_000_000);
    const lines = note.split('\n');
    assert.deepEqual(lines.slice(0, 4), ['example.com/log', '42', Buffer.from(root).toString('base64'), '']);
    assert.ok(lines[4]!.startsWith('— example.com/log ') && lines[5]!.startsWith('— example.com/log '));
    const v = verifyCheckpoint(note, key);
    assert.deepEqual([v.origin, v.size, v.timestamp], ['example.com/log', 42, 1_800_000_000]);
    assert.deepEqual(v.rootHash, root);
    // A client that knows only signed-note still verifies it: drop the cosignature line.
    const plain = lines.slice(0, 5).join('\n') + '\n';
    assert.equal(verifyCheckpoint(plain, key).timestamp, null);
  });

  it('refuses altered, foreign and malformed notes with codes', async () => {
    const note = await signCheckpoint({ origin: 'example.com/log', size: 42, rootHash: root }, key, 1_800_000_000);
    const other = { algorithm: 'Ed25519' as const, publicKey: ed25519PublicKey(new Uint8Array(32).fill(4)) };
    const cases: [string, string, string][] = [
      ['size changed', note.replace('\n42\n', '\n43\n'), 'note_unverified'],
      ['origin changed', note.replace('example.com/log\n42', 'example.com/lag\n42'), 'note_unverified'],
      ['no signature lines', note.split('\n\n')[0] + '\n\n', 'note_malformed'],
      ['no blank line', note.replace('\n\n', '\n'), 'note_malformed'],
      ['control character', note.replace('example.com/log\n42', 'example.com/log\t\n42'), 'note_malformed'],
      ['bad base64', note.replace(/— example.com\/log (\S+)\n/, '— example.com/log !!!\n'), 'note_malformed'],
      ['size with a leading zero', (await signCheckpoint({ origin: 'example.com/log', size: 42, rootHash: root }, key, 1)).replace('\n42\n', '\n042\n'), 'checkpoint_malformed'],
      ['not a checkpoint', formatSignedNote({ text: 'hello\n', signatures: [{ name: 'x', keyId: 1, signature: new Uint8Array(64) }] }), 'checkpoint_malformed'],
    ];
    for (const [what, text, expected] of cases) assert.equal(code(() => verifyCheckpoint(text, key)), expected, what);
    assert.equal(code(() => verifyCheckpoint(note, other)), 'note_unverified', 'another key');
    const cosigLine = note.split('\n')[5]!;
    const raw = Buffer.from(cosigLine.split(' ')[2]!, 'base64');
    raw.writeBigUInt64BE(1_700_000_000n, 4);
    const backdated = note.replace(cosigLine, `— example.com/log ${raw.toString('base64')}`);
    assert.equal(code(() => verifyCheckpoint(backdated, key)), 'note_unverified', 'a backdated cosignature');
  });
});
