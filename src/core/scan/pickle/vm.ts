// A pickle, read the way CPython's _pickle reads it, without running it: every opcode of
// protocols 0 to 5 is decoded, and a symbolic stack and memo track just enough to know which
// globals the pickle imports and which it calls. Names are resolved as find_class resolves them
// (names.ts) and judged against an exact allowlist (allowlist.ts): anything else can run code
// when loaded. Lessons from scanner bypasses (picklescan, modelscan): STACK_GLOBAL operands must
// be string literals (a name assembled through the memo or BUILD is unknown, so refused); a
// broken tail does not hide what came before it; EXT codes and calls on non-globals are refused.
import { copyBytes } from '../../bytes.ts';
import { isAllowedGlobal } from './allowlist.ts';
import { resolveGlobal } from './names.ts';
import type { ContentReport } from '../verdict.ts';

type Item = { kind: 'str'; value: string } | { kind: 'global'; name: string } | { kind: 'other' } | { kind: 'mark' };

export interface PickleScan {
  /** Offset just past STOP (or where reading stopped). */
  end: number;
  /** Every global imported, resolved, in order of first appearance (`module.name`). */
  globals: string[];
  /** The globals and constructs that are not allowed, with why. */
  unsafe: string[];
  /** Why the pickle does not read cleanly, if it does not. */
  error: string | undefined;
  protocol: number;
}

const MAX_ITEMS = 1_000_000;
/** Longer strings cannot name a module; they are skipped (not kept) and so can never name a global. */
const MAX_STRING = 1 << 16;
const OTHER: Item = { kind: 'other' };
const MARK: Item = { kind: 'mark' };
const EMPTY: Uint8Array = new Uint8Array(0);

class PickleError extends Error {}
/** Thrown (and caught) when an opcode's arguments are not all here yet: the opcode is read again with more bytes. */
class NeedMore extends Error {}

/**
 * Reads one pickle from a stream of chunks, keeping only the few bytes of an opcode split
 * between chunks (long byte strings are skipped, not kept), so a multi-gigabyte pickle is read
 * in the hashing pass in constant memory. `push` returns how many bytes of the chunk belong to
 * the pickle (less than the chunk once STOP is read); chunks are never kept, so a caller may
 * reuse its buffer.
 */
export class PickleReader {
  private readonly run: (chunk: Uint8Array, final: boolean) => number;
  private result: PickleScan | undefined;
  private readonly state: () => PickleScan;
  private readonly ended: () => boolean;

  /** `base`: the offset of the first byte pushed, for messages and `end`. */
  constructor(base = 0) {
    let bytes: Uint8Array = EMPTY;
    let view = new DataView(bytes.buffer);
    let i = 0;
    let origin = base; // the offset of bytes[0]
    let pending: Uint8Array = EMPTY; // the start of an opcode whose arguments were cut by a chunk end
    let skipLeft = 0; // bytes of a long argument still to pass over
    let final = false;
    let stopped = false;
    let protocol = 0;
    const stack: Item[] = [];
    const memo = new Map<number, Item>();
    const globals: string[] = [];
    const unsafe: string[] = [];
    const seen = new Set<string>();
    let error: string | undefined;
    const at = () => origin + i;

    const need = (n: number | bigint) => {
      if (BigInt(n) > BigInt(bytes.length - i)) {
        if (final) throw new PickleError(`an argument of ${n} bytes runs past the end at offset ${at()}`);
        throw new NeedMore();
      }
      return Number(n);
    };
    const u8 = () => (need(1), bytes[i++]!);
    const u32 = () => (need(4), (i += 4), view.getUint32(i - 4, true));
    const i32 = () => (need(4), (i += 4), view.getInt32(i - 4, true));
    const u64 = () => (need(8), (i += 8), view.getBigUint64(i - 8, true));
    const skip = (n: number | bigint) => {
      const available = bytes.length - i;
      if (BigInt(n) <= BigInt(available)) {
        i += Number(n);
        return;
      }
      if (final || BigInt(n) > BigInt(Number.MAX_SAFE_INTEGER)) throw new PickleError(`an argument of ${n} bytes runs past the end at offset ${at()}`);
      // Passed over as later chunks arrive; the opcode itself is complete.
      skipLeft = Number(n) - available;
      i = bytes.length;
    };
    const text = (n: number | bigint): Item => {
      if (BigInt(n) > BigInt(MAX_STRING)) {
        skip(n);
        return OTHER;
      }
      const len = need(n);
      const s = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(i, i + len));
      i += len;
      return { kind: 'str', value: s };
    };
    /**
     * A newline-ended argument, decoded as _pickle decodes it: GLOBAL and INST names as strict
     * UTF-8; UNICODE as raw-unicode-escape (any byte is a Latin-1 character, so a protocol-0
     * pickle with a raw byte 0xE9 reads on); numbers, memo indexes and STRING as Latin-1 (only
     * their digits or quotes matter here).
     */
    const line = (decoding: 'utf-8' | 'latin1' | 'raw-unicode-escape' = 'latin1') => {
      const nl = bytes.indexOf(0x0a, i);
      if (nl < 0 || nl - i > MAX_STRING) {
        if (nl < 0 && !final && bytes.length - i <= MAX_STRING) throw new NeedMore();
        throw new PickleError(nl < 0 ? `a line argument without its newline at offset ${at()}` : `a line argument longer than ${MAX_STRING} bytes at offset ${at()}`);
      }
      const raw = bytes.subarray(i, nl);
      let s: string;
      try {
        s = decoding === 'utf-8' ? new TextDecoder('utf-8', { fatal: true }).decode(raw) : latin1(raw);
      } catch {
        throw new PickleError(`a name that is not UTF-8 at offset ${at()}`);
      }
      i = nl + 1;
      return decoding === 'raw-unicode-escape' ? unescapeRawUnicode(s) : s;
    };
    const push = (item: Item) => {
      if (stack.length >= MAX_ITEMS) throw new PickleError('the stack grows past a million items');
      stack.push(item);
    };
    const pop = (): Item => {
      const item = stack.pop();
      if (!item || item.kind === 'mark') throw new PickleError(`stack underflow at offset ${at() - 1}`);
      return item;
    };
    const top = (): Item => {
      const item = stack[stack.length - 1];
      if (!item || item.kind === 'mark') throw new PickleError(`an empty stack at offset ${at() - 1}`);
      return item;
    };
    const popMark = (): Item[] => {
      const where = stack.lastIndexOf(MARK);
      if (where < 0) throw new PickleError(`no MARK to pop to at offset ${at() - 1}`);
      return stack.splice(where).slice(1);
    };
    const importGlobal = (module: string, name: string): Item => {
      const resolved = resolveGlobal(module, name, protocol);
      const full = `${resolved.module}.${resolved.name}`;
      if (!seen.has(full)) {
        seen.add(full);
        globals.push(full);
        // Importing a module runs its top-level code: an unknown global is refused even if never called.
        if (!isAllowedGlobal(resolved.module, resolved.name)) unsafe.push(full);
      }
      return { kind: 'global', name: full };
    };
    const call = (callable: Item, how: string) => {
      if (callable.kind !== 'global') unsafe.push(`${how} on something that is not an imported global (a value computed in the pickle)`);
    };
    const setMemo = (index: number) => {
      if (memo.size >= MAX_ITEMS && !memo.has(index)) throw new PickleError('the memo grows past a million entries');
      memo.set(index, top());
    };
    const getMemo = (index: number) => {
      const item = memo.get(index);
      if (!item) throw new PickleError(`memo entry ${index} read before it was written`);
      push(item);
    };

    // One opcode. Every argument is read before the stack or memo changes, so an opcode cut by a
    // chunk end (NeedMore) is simply read again from its first byte.
    const step = () => {
      const op = bytes[i++]!;
    switch (op) {
      case 0x2e: // STOP
        if (stack.length !== 1) throw new PickleError(`STOP with ${stack.length} items on the stack`);
        stopped = true;
        return;
      case 0x80: // PROTO
        protocol = u8();
        if (protocol > 5) throw new PickleError(`protocol ${protocol} is not one Python reads`);
        break;
      case 0x95: // FRAME
        u64(); // frames only group opcodes for reading; every opcode is judged wherever the frame ends
        break;
      case 0x28: // MARK
        push(MARK);
        break;
      case 0x30: // POP
        if (stack[stack.length - 1] === MARK) stack.pop();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;
      // Numbers and other non-strings.
      case 0x46: case 0x49: case 0x4c: // FLOAT, INT, LONG (text lines)
        line();
        push(OTHER);
        break;
      case 0x47: skip(8); push(OTHER); break; // BINFLOAT
      case 0x4a: skip(4); push(OTHER); break; // BININT
      case 0x4b: skip(1); push(OTHER); break; // BININT1
      case 0x4d: skip(2); push(OTHER); break; // BININT2
      case 0x8a: skip(u8()); push(OTHER); break; // LONG1
      case 0x8b: { const n = i32(); if (n < 0) throw new PickleError('LONG4 with a negative length'); skip(n); push(OTHER); break; }
      case 0x4e: case 0x88: case 0x89: push(OTHER); break; // NONE, NEWTRUE, NEWFALSE
      case 0x42: skip(u32()); push(OTHER); break; // BINBYTES
      case 0x43: skip(u8()); push(OTHER); break; // SHORT_BINBYTES
      case 0x8e: case 0x96: skip(u64()); push(OTHER); break; // BINBYTES8, BYTEARRAY8
      case 0x97: throw new PickleError('NEXT_BUFFER: out-of-band buffers, which a file cannot supply');
      case 0x98: top(); break; // READONLY_BUFFER
      // Strings: the only values STACK_GLOBAL accepts.
      case 0x53: push({ kind: 'str', value: unquote(line()) }); break; // STRING (quoted)
      case 0x54: { const n = i32(); if (n < 0) throw new PickleError('BINSTRING with a negative length'); push(text(n)); break; }
      case 0x55: push(text(u8())); break; // SHORT_BINSTRING
      case 0x56: push({ kind: 'str', value: line('raw-unicode-escape') }); break; // UNICODE
      case 0x8c: push(text(u8())); break; // SHORT_BINUNICODE
      case 0x58: push(text(u32())); break; // BINUNICODE
      case 0x8d: push(text(u64())); break; // BINUNICODE8
      // Containers.
      case 0x5d: case 0x29: case 0x7d: case 0x8f: push(OTHER); break; // EMPTY_LIST, EMPTY_TUPLE, EMPTY_DICT, EMPTY_SET
      case 0x61: pop(); top(); break; // APPEND
      case 0x65: case 0x75: case 0x90: popMark(); top(); break; // APPENDS, SETITEMS, ADDITEMS
      case 0x73: pop(); pop(); top(); break; // SETITEM
      case 0x6c: case 0x74: case 0x64: case 0x91: popMark(); push(OTHER); break; // LIST, TUPLE, DICT, FROZENSET
      case 0x85: pop(); push(OTHER); break; // TUPLE1
      case 0x86: pop(); pop(); push(OTHER); break; // TUPLE2
      case 0x87: pop(); pop(); pop(); push(OTHER); break; // TUPLE3
      // The memo.
      case 0x67: getMemo(memoIndex(line())); break; // GET
      case 0x68: getMemo(u8()); break; // BINGET
      case 0x6a: getMemo(u32()); break; // LONG_BINGET
      case 0x70: setMemo(memoIndex(line())); break; // PUT
      case 0x71: setMemo(u8()); break; // BINPUT
      case 0x72: setMemo(u32()); break; // LONG_BINPUT
      case 0x94: setMemo(memo.size); break; // MEMOIZE
      // Imports and calls.
      case 0x63: { const module = line('utf-8'); push(importGlobal(module, line('utf-8'))); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (module.kind !== 'str' || name.kind !== 'str') {
          unsafe.push('STACK_GLOBAL with a name that is not a string literal (assembled in the pickle)');
          push({ kind: 'global', name: '?' });
        } else push(importGlobal(module.value, name.value));
        break;
      }
      case 0x69: { const module = line('utf-8'); const g = importGlobal(module, line('utf-8')); popMark(); call(g, 'INST'); push(OTHER); break; } // INST
      case 0x6f: { const items = popMark(); if (items.length === 0) throw new PickleError('OBJ without a class'); call(items[0]!, 'OBJ'); push(OTHER); break; }
      case 0x52: { pop(); call(pop(), 'REDUCE'); push(OTHER); break; } // REDUCE
      case 0x81: { pop(); call(pop(), 'NEWOBJ'); push(OTHER); break; } // NEWOBJ
      case 0x92: { pop(); pop(); call(pop(), 'NEWOBJ_EX'); push(OTHER); break; } // NEWOBJ_EX
      case 0x62: { // BUILD
        pop();
        const target = top();
        // State set on a class or function (not an instance) rewrites a global: the modelscan #85 gadget.
        if (target.kind === 'global') unsafe.push(`BUILD on ${target.name} itself (sets attributes of an imported global)`);
        break;
      }
      case 0x82: case 0x83: case 0x84: // EXT1, EXT2, EXT4: a global from copyreg's registry, unknown here
        skip(op === 0x82 ? 1 : op === 0x83 ? 2 : 4);
        unsafe.push('EXT opcode (a global from the copyreg extension registry)');
        push({ kind: 'global', name: '?' });
        break;
      case 0x50: line(); push(OTHER); break; // PERSID
      case 0x51: pop(); push(OTHER); break; // BINPERSID
      default:
        throw new PickleError(`byte 0x${op.toString(16).padStart(2, '0')} at offset ${at() - 1} is not a pickle opcode`);
    }
  };

    this.run = (chunk, last) => {
      if (stopped || error !== undefined) return 0;
      final = last;
      let used = 0;
      if (skipLeft > 0) {
        used = Math.min(skipLeft, chunk.length);
        skipLeft -= used;
        origin += used;
        if (skipLeft > 0) {
          if (last) error = `an argument runs ${skipLeft} bytes past the end of the pickle`;
          return used;
        }
      }
      const rest = chunk.subarray(used);
      const carried = pending.length;
      if (carried > 0) {
        bytes = new Uint8Array(carried + rest.length);
        bytes.set(pending);
        bytes.set(rest, carried);
      } else bytes = rest;
      view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      pending = EMPTY;
      i = 0;
      try {
        while (!stopped && error === undefined) {
          if (i >= bytes.length) {
            if (final && skipLeft === 0) throw new PickleError('the pickle ends without STOP');
            break;
          }
          const start = i;
          try {
            step();
          } catch (err) {
            if (!(err instanceof NeedMore)) throw err;
            // Copied, never a view: the caller may reuse the chunk's memory for its next read.
            pending = copyBytes(bytes.subarray(start));
            origin += start;
            i = start;
            return used + rest.length;
          }
        }
      } catch (err) {
        if (!(err instanceof PickleError) && !(err instanceof TypeError) && !(err instanceof RangeError) && !(err instanceof SyntaxError)) throw err;
        error = err.message;
      }
      const consumed = used + Math.max(0, i - carried);
      origin += i;
      return consumed;
    };
    this.state = () => ({ end: origin, globals, unsafe, error, protocol });
    this.ended = () => stopped || error !== undefined;
  }

  /** STOP was read, or the pickle cannot be read further. */
  get done(): boolean {
    return this.ended();
  }

  /** Feeds the next bytes; returns how many belong to the pickle (all, until STOP). */
  push(chunk: Uint8Array): number {
    return this.run(chunk, false);
  }

  /** No more bytes: the scan, with `error` set if the pickle was cut short. */
  finish(): PickleScan {
    if (!this.result) {
      this.run(EMPTY, true);
      this.result = this.state();
    }
    return this.result;
  }
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let k = 0; k < bytes.length; k += 8192) s += String.fromCharCode(...bytes.subarray(k, k + 8192));
  return s;
}

/** raw-unicode-escape: \uXXXX and \UXXXXXXXX are characters; every other byte is itself. */
function unescapeRawUnicode(s: string): string {
  return s.replace(/\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})/g, (_, hex: string) => {
    const code = parseInt(hex.slice(1), 16);
    if (code > 0x10ffff) throw new PickleError('a \\U escape beyond U+10FFFF');
    return String.fromCodePoint(code);
  });
}

/**
 * A GET or PUT index: decimal digits, spaces around them allowed. Number() would take "0x10",
 * "1e3" and "" (as 0), and memoise under NaN, where CPython's int() refuses: malformed here too.
 */
function memoIndex(s: string): number {
  const digits = s.replace(/^[ \t\r]+|[ \t\r]+$/g, '');
  if (!/^[0-9]+$/.test(digits)) throw new PickleError(`a memo index ${JSON.stringify(digits)} that is not a number`);
  return Number(digits);
}

/** A STRING argument: a quoted repr; the quotes go, escapes stay (a name with an escape is not on the allowlist either way). */
function unquote(s: string): string {
  if (s.length >= 2 && (s[0] === "'" || s[0] === '"') && s.at(-1) === s[0]) return s.slice(1, -1);
  throw new PickleError('a STRING argument without matching quotes');
}

/** Reads one pickle from `bytes` at `start`. Never throws for bad input: `error` says what was wrong. */
export function scanPickle(bytes: Uint8Array, start = 0): PickleScan {
  const reader = new PickleReader(start);
  reader.push(bytes.subarray(start));
  return reader.finish();
}

/** The verdict on a lone pickle: code-capable if anything unsafe was seen (even before a broken tail), else malformed if it does not read cleanly. */
export function judgePickle(scan: PickleScan, format = 'pickle'): ContentReport {
  if (scan.unsafe.length > 0) {
    return { verdict: 'code-capable', format, findings: scan.unsafe.map((what) => ({ code: 'pickle_unsafe_global', message: `can run code when loaded: ${what}` })) };
  }
  if (scan.error !== undefined) return { verdict: 'malformed', format, findings: [{ code: 'pickle_malformed', message: scan.error }] };
  return { verdict: scan.globals.length === 0 ? 'data-only' : 'allowlisted-pickle', format, findings: [] };
}
