// Characters that make a name display as something other than what it is: format characters
// (\p{Cf}: bidirectional controls such as U+202E, zero-width spaces and joiners, the BOM, tag
// characters), line and paragraph separators, and every Default_Ignorable_Code_Point (fillers
// such as U+3164, variation selectors), which fonts draw as nothing. In a file name they make a
// listing show one name while another is signed ("Trojan Source" for file names), so manifest
// paths may not hold them, and names are printed with them escaped.

const INVISIBLE_CLASS = '\\p{Cf}\\p{Zl}\\p{Zp}\\p{Default_Ignorable_Code_Point}';
// What escapeName escapes: the above, C0/C1 controls and DEL, and lone surrogates.
const UNPRINTABLE_CLASS = `${INVISIBLE_CLASS}\\p{Cc}\\p{Cs}`;
// Global (for matchAll and replace); `search` ignores the flag and starts at 0 every time.
const INVISIBLE = new RegExp(`[${INVISIBLE_CLASS}]`, 'gu');
const UNPRINTABLE = new RegExp(`[${UNPRINTABLE_CLASS}]`, 'gu');

/** `U+202E` for a character (its first code point). */
export function codePointLabel(char: string): string {
  return `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The label of the first invisible character in `text`, or undefined when it has none. */
export function invisibleCharacter(text: string): string | undefined {
  const at = text.search(INVISIBLE);
  return at < 0 ? undefined : codePointLabel(text.slice(at));
}

/** Every invisible character of `text`, as labels, in order (for error details). */
export function invisibleCharacters(text: string): string[] {
  return [...text.matchAll(INVISIBLE)].map((m) => codePointLabel(m[0]));
}

/** The label of the first character of `text` outside printable ASCII, or undefined. */
export function nonAsciiCharacter(text: string): string | undefined {
  const m = /[^\x20-\x7e]/u.exec(text);
  return m ? codePointLabel(m[0]) : undefined;
}

/**
 * `text` in double quotes, safe to print: quotes and backslashes escaped, and every invisible,
 * control or lone-surrogate character written as `\u{202E}`, so a terminal shows what the name
 * holds rather than what it pretends to be.
 */
export function escapeName(text: string): string {
  return `"${text.replace(/["\\]/g, (c) => `\\${c}`).replace(UNPRINTABLE, (c) => `\\u{${c.codePointAt(0)!.toString(16).toUpperCase()}}`)}"`;
}

/** `text` as it is when it has nothing to escape (the common case), else escapeName(text). */
export function printableName(text: string): string {
  return text.search(UNPRINTABLE) < 0 ? text : escapeName(text);
}
