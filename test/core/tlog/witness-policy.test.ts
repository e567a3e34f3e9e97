// C2SP tlog-policy parsing: the spec's example, and a refusing case for every rule (charset,
// keywords and arity, definition order, single membership, thresholds, duplicates, the quorum,
// the recommended limits), each with its line named.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TlogError } from '../../../src/core/tlog/tlog-error.ts';
import { formatVkey, NOTE_TYPE } from '../../../src/core/tlog/vkey.ts';
import { parseWitnessPolicy, POLICY_LIMITS } from '../../../src/core/tlog/witness-policy.ts';
import { ED25519_WITNESSES as W } from '../../support/witness-cases.ts';

const vk = (i: number) => W[i]!.vkey;
const logVkey = formatVkey('log.example.com', NOTE_TYPE.ed25519, new Uint8Array(32).fill(9));
const refused = (text: string, pattern: RegExp) =>
  assert.throws(() => parseWitnessPolicy(text), (err: unknown) => err instanceof TlogError && err.code === 'policy_malformed' && pattern.test(err.message), `expected ${pattern} for ${JSON.stringify(text.slice(0, 120))}`);

describe('witness policy (C2SP tlog-policy)', () => {
  it('reads the spec\'s two-level example with comments, blank lines, tabs and URLs', () => {
    const policy = parseWitnessPolicy(
      `# example\nlog ${logVkey} https://log.example.com/v1/log\n\n  witness X1 ${vk(0)}\nwitness\tX2 ${vk(1)} https://w.example/x2\nwitness X3 ${vk(2)}\ngroup X-witnesses 2 X1 X2 X3\n` +
        `witness Y1 ${vk(3)}\nwitness Y2 ${vk(4)}\nwitness Y3 ${vk(5)}\ngroup Y-witnesses any Y1 Y2 Y3\n\ngroup X-and-Y all X-witnesses Y-witnesses\nquorum X-and-Y   \n`,
    );
    assert.equal(policy.logs.length, 1);
    assert.equal(policy.logs[0]!.url, 'https://log.example.com/v1/log');
    assert.deepEqual(policy.witnesses.map((w) => w.name), ['X1', 'X2', 'X3', 'Y1', 'Y2', 'Y3']);
    assert.deepEqual(policy.groups.map((g) => [g.name, g.threshold, g.members.length]), [['X-witnesses', 2, 3], ['Y-witnesses', 1, 3], ['X-and-Y', 2, 2]]);
    assert.equal(policy.quorum, 'X-and-Y');
    assert.equal(parseWitnessPolicy('quorum none').quorum, 'none');
  });

  it('accepts a 0x01 witness vkey and identifies its cosignatures by the 0x04 key ID', () => {
    const p = parseWitnessPolicy(`witness a ${formatVkey(W[0]!.name, NOTE_TYPE.ed25519, W[0]!.publicKey)}\nquorum a\n`);
    const q = parseWitnessPolicy(`witness a ${vk(0)}\nquorum a\n`);
    assert.equal(p.witnesses[0]!.key.keyId, q.witnesses[0]!.key.keyId);
    assert.equal(p.witnesses[0]!.key.type, NOTE_TYPE.cosignatureV1);
  });

  const cases: [string, string, RegExp][] = [
    ['a carriage return', `witness a ${vk(0)}\r\nquorum a\n`, /control character 0x0d/],
    ['a NUL byte', `quorum none\0\n`, /control character 0x00/],
    ['DEL', `quorum none\x7f\n`, /0x7f/],
    ['an unknown keyword', `witnesses a ${vk(0)}\nquorum a\n`, /line 1: unknown keyword/],
    ['a comment after items', `witness a ${vk(0)}\nquorum a # the one\n`, /line 2: a quorum line/],
    ['a log line without a key', `log\nquorum none\n`, /line 1: a log line/],
    ['a log line with extra items', `log ${logVkey} https://x y\nquorum none\n`, /line 1: a log line/],
    ['a log key of a cosignature type', `log ${formatVkey('log.example.com', NOTE_TYPE.cosignatureV1, new Uint8Array(32).fill(9))}\nquorum none\n`, /only Ed25519 \(0x01\) log keys/],
    ['a duplicate log key under another name', `log ${logVkey}\nlog ${formatVkey('other.example.com', NOTE_TYPE.ed25519, new Uint8Array(32).fill(9))}\nquorum none\n`, /line 2: .*repeats the key/],
    ['a witness line without a key', `witness a\nquorum a\n`, /line 1: a witness line/],
    ['a malformed vkey', `witness a b+00000000+AA==\nquorum a\n`, /line 1: .*vkey/],
    ['a vkey whose key ID is wrong', `witness a ${vk(0).replace(/\+[0-9a-f]{8}\+/, '+00000000+')}\nquorum a\n`, /key ID 00000000/],
    ['a vkey of an unknown type', `witness a ${vk(0).split('+').slice(0, 2).join('+')}+${Buffer.concat([Buffer.from([9]), Buffer.alloc(32)]).toString('base64')}\nquorum a\n`, /type 0x09/],
    ['a witness named none', `witness none ${vk(0)}\nquorum none\n`, /reserved/],
    ['a duplicate name', `witness a ${vk(0)}\nwitness a ${vk(1)}\nquorum a\n`, /line 2: the name "a" is already defined/],
    ['a group named like a witness', `witness a ${vk(0)}\ngroup a any a\nquorum a\n`, /already defined/],
    ['a duplicate witness key', `witness a ${vk(0)}\nwitness b ${vk(0)}\nquorum a\n`, /repeats the key/],
    ['the same Ed25519 key as 0x01 and 0x04', `witness a ${vk(0)}\nwitness b ${formatVkey('x.example', NOTE_TYPE.ed25519, W[0]!.publicKey)}\nquorum a\n`, /repeats the key/],
    ['a group without members', `witness a ${vk(0)}\ngroup g any\nquorum g\n`, /at least one member/],
    ['a member defined later', `group g any a\nwitness a ${vk(0)}\nquorum g\n`, /line 1: group g: "a" is not defined on an earlier line/],
    ['a member listed twice in one group', `witness a ${vk(0)}\ngroup g 1 a a\nquorum g\n`, /already a member/],
    ['a member of two groups', `witness a ${vk(0)}\nwitness b ${vk(1)}\ngroup g any a b\ngroup h any a\nquorum g\n`, /line 4: group h: "a" is already a member/],
    ['none as a member', `witness a ${vk(0)}\ngroup g any none\nquorum g\n`, /"none" is not defined/],
    ['a threshold of zero', `witness a ${vk(0)}\ngroup g 0 a\nquorum g\n`, /threshold "0"/],
    ['a threshold above n', `witness a ${vk(0)}\ngroup g 2 a\nquorum g\n`, /threshold "2"/],
    ['a threshold that is not decimal', `witness a ${vk(0)}\ngroup g 0x1 a\nquorum g\n`, /threshold "0x1"/],
    ['a negative threshold', `witness a ${vk(0)}\ngroup g -1 a\nquorum g\n`, /threshold "-1"/],
    ['no quorum', `witness a ${vk(0)}\n`, /no quorum line/],
    ['two quorums', `witness a ${vk(0)}\nquorum a\nquorum a\n`, /line 3: a policy has exactly one quorum line/],
    ['a quorum before its definition', `quorum a\nwitness a ${vk(0)}\n`, /line 1: the quorum "a" is not defined/],
    ['an undefined quorum', `quorum nobody\n`, /not defined/],
    ['a quorum with two names', `witness a ${vk(0)}\nquorum a a\n`, /a quorum line/],
    ['more witnesses than the limit', Array.from({ length: 33 }, (_, i) => `witness w${i} ${formatVkey(`w${i}.example`, NOTE_TYPE.cosignatureV1, new Uint8Array(32).fill(i + 1))}`).join('\n') + '\nquorum w0\n', /line 33: more than 32 witnesses/],
    ['more groups than the limit', `witness a ${vk(0)}\n` + Array.from({ length: 33 }, (_, i) => `group g${i} any ${i === 0 ? 'a' : `g${i - 1}`}`).join('\n') + '\nquorum g0\n', /more than 32 groups/],
    ['more logs than the limit', Array.from({ length: 33 }, (_, i) => `log ${formatVkey(`l${i}.example`, NOTE_TYPE.ed25519, new Uint8Array(32).fill(i + 1))}`).join('\n') + '\nquorum none\n', /more than 32 logs/],
    ['a policy over the size limit', `# ${'x'.repeat(POLICY_LIMITS.bytes)}\nquorum none\n`, /at most/],
  ];
  for (const [name, text, pattern] of cases) it(`refuses ${name}`, () => refused(text, pattern));
});
