// A strict JSON reader for headers that other programs will parse too. JSON.parse keeps the last
// of two equal keys and rounds integers above 2^53, so a header could mean one thing to this
// checker and another to a loader (safetensors' README: duplicate keys are "disallowed. Not all
// parsers may respect this"). This reader refuses duplicate keys at every level and keeps every
// integer exact (a bigint); anything it returns means the same to every conforming parser.

export type StrictJson = null | boolean | string | bigint | number | StrictJson[] | { [key: string]: StrictJson };

export class StrictJsonError extends Error {
  override readonly name = 'StrictJsonError';
  constructor(
    readonly code: 'syntax' | 'duplicate_key' | 'too_deep',
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const MAX_DEPTH = 64;

/**
 * Parses `text` (one JSON value, surrounded by whitespace at most). Integers become bigints;
 * numbers with a fraction or an exponent stay numbers, so a caller can refuse them where it
 * wants integers.
 */
export function parseStrictJson(text: string): StrictJson {
  let i = 0;
  const fail = (message: string, code: StrictJsonError['code'] = 'syntax'): never => {
    throw new StrictJsonError(code, `${message} at offset ${i}`, i);
  };
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const literal = (word: string, value: StrictJson): StrictJson => {
    if (text.startsWith(word, i)) {
      i += word.length;
      return value;
    }
    return fail('invalid literal');
  };
  const string = (): string => {
    i++; // the opening quote
    let out = '';
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return out;
      }
      if (c < 0x20) fail('a control character in a string');
      if (c !== 0x5c) {
        // A run of plain characters at once (headers can be megabytes of names).
        let end = i + 1;
        while (end < text.length) {
          const d = text.charCodeAt(end);
          if (d === 0x22 || d === 0x5c || d < 0x20) break;
          end++;
        }
        out += text.slice(i, end);
        i = end;
        continue;
      }
      const e = text[i + 1];
      i += 2;
      if (e === 'u') {
        const hex = text.slice(i, i + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('a bad \\u escape');
        out += String.fromCharCode(parseInt(hex, 16));
        i += 4;
      } else {
        const simple = ({ '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' } as Record<string, string>)[e ?? ''];
        if (simple === undefined) fail('a bad escape');
        out += simple;
      }
    }
  };
  const number = (): bigint | number => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m) return fail('invalid number');
    i += m[0].length;
    return m[2] === undefined && m[3] === undefined ? BigInt(m[0]) : Number(m[0]);
  };
  const value = (depth: number): StrictJson => {
    if (depth > MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH}`, 'too_deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const out: { [key: string]: StrictJson } = Object.create(null) as { [key: string]: StrictJson };
      ws();
      if (text[i] === '}') {
        i++;
        return out;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a key');
        const at = i;
        const key = string();
        if (Object.prototype.hasOwnProperty.call(out, key)) throw new StrictJsonError('duplicate_key', `the key ${JSON.stringify(key)} appears twice`, at);
        ws();
        if (text[i++] !== ':') fail('expected ":"');
        out[key] = value(depth + 1);
        ws();
        const next = text[i++];
        if (next === '}') return out;
        if (next !== ',') fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const out: StrictJson[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return out;
      }
      for (;;) {
        out.push(value(depth + 1));
        ws();
        const next = text[i++];
        if (next === ']') return out;
        if (next !== ',') fail('expected "," or "]"');
      }
    }
    if (c === '"') return string();
    if (c === 't') return literal('true', true);
    if (c === 'f') return literal('false', false);
    if (c === 'n') return literal('null', null);
    return number();
  };
  const result = value(0);
  ws();
  if (i !== text.length) fail('text after the JSON value');
  return result;
}
