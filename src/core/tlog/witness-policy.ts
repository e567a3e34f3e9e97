// C2SP tlog-policy: which logs and witnesses a verifier trusts, and the quorum of witnesses whose
// cosignatures make a checkpoint valid. Parsed exactly as the spec says (and as
// transparency-dev/formats' reference parser does): space/tab-separated items, whole-line `#`
// comments, only tab and newline among control characters, names defined before use (which also
// rules out cycles), each name a group member at most once, 1 <= k <= n, exactly one quorum, no
// duplicate log or witness keys, and the spec's recommended limits as hard limits.
// One deliberate difference: a 0x01 witness vkey is accepted (formats refuses it; rekor-tiles'
// policies use it), its cosignatures identified by the 0x04 key ID (cosignature.ts).
import type { SignedNote } from './signed-note.ts';
import type { Checkpoint } from './checkpoint.ts';
import { verifyCosignature, witnessKeyOf, type WitnessKey } from './cosignature.ts';
import { TlogError } from './tlog-error.ts';
import { isSameKey, NOTE_TYPE, parseVkey, type Vkey } from './vkey.ts';

export const POLICY_LIMITS = { logs: 32, witnesses: 32, groups: 32, bytes: 256 * 1024 } as const;

export interface PolicyLog {
  vkey: Vkey;
  url?: string;
}

export interface PolicyWitness {
  /** The name the policy gives it (groups refer to it by this name). */
  name: string;
  key: WitnessKey;
  url?: string;
}

export interface PolicyGroup {
  name: string;
  threshold: number;
  members: string[];
}

export interface WitnessPolicy {
  logs: PolicyLog[];
  witnesses: PolicyWitness[];
  groups: PolicyGroup[];
  /** A witness or group name, or 'none'. */
  quorum: string;
}

const NONE = 'none';

function refuse(line: number, message: string): never {
  throw new TlogError('policy_malformed', `witness policy line ${line}: ${message}`);
}

function vkeyAt(line: number, text: string): Vkey {
  try {
    return parseVkey(text);
  } catch (err) {
    return refuse(line, err instanceof Error ? err.message : String(err));
  }
}

export function parseWitnessPolicy(text: string): WitnessPolicy {
  if (typeof text !== 'string' || text.length > POLICY_LIMITS.bytes) throw new TlogError('policy_malformed', `a witness policy is text of at most ${POLICY_LIMITS.bytes} bytes`);
  const bad = /[\x00-\x08\x0b-\x1f\x7f]/.exec(text);
  if (bad) throw new TlogError('policy_malformed', `the witness policy holds the control character 0x${bad[0].charCodeAt(0).toString(16).padStart(2, '0')} at offset ${bad.index} (only tab and newline are allowed)`);
  const policy: WitnessPolicy = { logs: [], witnesses: [], groups: [], quorum: '' };
  const defined = new Set<string>();
  const member = new Set<string>();
  let quorum: string | undefined;
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    const n = i + 1;
    const fields = raw.split(/[ \t]+/).filter((f) => f !== '');
    if (fields.length === 0 || fields[0]!.startsWith('#')) return;
    const [keyword, ...args] = fields as [string, ...string[]];
    switch (keyword) {
      case 'log': {
        if (args.length < 1 || args.length > 2) refuse(n, 'a log line is "log <vkey> [<url>]"');
        const vkey = vkeyAt(n, args[0]!);
        if (vkey.type !== NOTE_TYPE.ed25519) refuse(n, `log ${vkey.name}: only Ed25519 (0x01) log keys are supported`);
        if (policy.logs.some((l) => isSameKey(l.vkey, vkey))) refuse(n, `log ${vkey.name} repeats the key of an earlier log line`);
        if (policy.logs.length === POLICY_LIMITS.logs) refuse(n, `more than ${POLICY_LIMITS.logs} logs`);
        policy.logs.push({ vkey, ...(args[1] ? { url: args[1] } : {}) });
        return;
      }
      case 'witness': {
        if (args.length < 2 || args.length > 3) refuse(n, 'a witness line is "witness <name> <vkey> [<url>]"');
        const name = args[0]!;
        if (name === NONE) refuse(n, '"none" is reserved');
        if (defined.has(name)) refuse(n, `the name ${JSON.stringify(name)} is already defined`);
        let key: WitnessKey;
        try {
          key = witnessKeyOf(vkeyAt(n, args[1]!));
        } catch (err) {
          return refuse(n, err instanceof Error ? err.message : String(err));
        }
        if (policy.witnesses.some((w) => isSameKey(w.key, key))) refuse(n, `witness ${name} repeats the key of an earlier witness`);
        if (policy.witnesses.length === POLICY_LIMITS.witnesses) refuse(n, `more than ${POLICY_LIMITS.witnesses} witnesses`);
        defined.add(name);
        policy.witnesses.push({ name, key, ...(args[2] ? { url: args[2] } : {}) });
        return;
      }
      case 'group': {
        if (args.length < 3) refuse(n, 'a group line is "group <name> all|any|<k> <member>..." with at least one member');
        const [name, threshold, ...members] = args as [string, string, ...string[]];
        if (name === NONE) refuse(n, '"none" is reserved');
        if (defined.has(name)) refuse(n, `the name ${JSON.stringify(name)} is already defined`);
        const k = threshold === 'any' ? 1 : threshold === 'all' ? members.length : /^(0|[1-9][0-9]{0,8})$/.test(threshold) ? Number(threshold) : NaN;
        if (!(k >= 1 && k <= members.length)) refuse(n, `group ${name}: the threshold ${JSON.stringify(threshold)} is not all, any or a decimal k with 1 <= k <= ${members.length}`);
        for (const m of members) {
          if (!defined.has(m)) refuse(n, `group ${name}: ${JSON.stringify(m)} is not defined on an earlier line`);
          if (member.has(m)) refuse(n, `group ${name}: ${JSON.stringify(m)} is already a member of a group`);
          member.add(m);
        }
        if (policy.groups.length === POLICY_LIMITS.groups) refuse(n, `more than ${POLICY_LIMITS.groups} groups`);
        defined.add(name);
        policy.groups.push({ name, threshold: k, members });
        return;
      }
      case 'quorum': {
        if (args.length !== 1) refuse(n, 'a quorum line is "quorum <name>"');
        if (quorum !== undefined) refuse(n, 'a policy has exactly one quorum line');
        if (args[0] !== NONE && !defined.has(args[0]!)) refuse(n, `the quorum ${JSON.stringify(args[0])} is not defined on an earlier line`);
        quorum = args[0]!;
        return;
      }
      default:
        refuse(n, `unknown keyword ${JSON.stringify(keyword.slice(0, 40))}`);
    }
  });
  if (quorum === undefined) throw new TlogError('policy_malformed', 'the witness policy has no quorum line');
  policy.quorum = quorum;
  return policy;
}

export interface Witnessing {
  /** Whether the quorum is met. */
  met: boolean;
  /** The policy names of the witnesses whose cosignatures verified, with their timestamps. */
  cosigned: { name: string; timestamp: number }[];
}

/**
 * Evaluates the policy's quorum on a checkpoint's note. Every line of a witness the policy knows
 * is checked: a bad one throws TlogError('cosignature_invalid') even if the quorum could do
 * without it (signed-note: a known key's bad signature is an error). Lines of unknown keys are
 * ignored. The log's signature is not checked here.
 */
export function evaluateQuorum(policy: WitnessPolicy, note: SignedNote, checkpoint: Checkpoint, nowSeconds: number): Witnessing {
  const cosigned: Witnessing['cosigned'] = [];
  for (const w of policy.witnesses) {
    let timestamp: number | undefined;
    for (const s of note.signatures) {
      if (s.name !== w.key.name || s.keyId !== w.key.keyId) continue;
      timestamp = verifyCosignature(w.key, s.signature, checkpoint, note.text, nowSeconds);
    }
    if (timestamp !== undefined) cosigned.push({ name: w.name, timestamp });
  }
  return { met: meetsQuorum(policy, new Set(cosigned.map((c) => c.name))), cosigned };
}

/** Whether witnesses of these policy names, having cosigned, meet the policy's quorum (groups evaluated recursively). */
export function meetsQuorum(policy: WitnessPolicy, cosigned: ReadonlySet<string>): boolean {
  const groups = new Map(policy.groups.map((g) => [g.name, g]));
  // Members are defined before their group, so the recursion ends.
  const satisfied = (name: string): boolean => {
    const g = groups.get(name);
    if (!g) return cosigned.has(name);
    return g.members.filter(satisfied).length >= g.threshold;
  };
  return policy.quorum === NONE || satisfied(policy.quorum);
}
