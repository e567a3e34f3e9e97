// Characters that make a name display as something other than what it is: format characters
// (\p{Cf}: bidirectional controls such as U+202E, zero-width spaces and joiners, the BOM, tag
// characters), line and paragraph separators, and every Default_Ignorable_Code_Point (fillers
// such as U+3164, variation selectors), which fonts draw as nothing. In a file name they make a
// listing show one name while another is signed ("Trojan Source" for file names), so manifest
// paths may not hold them, and names are printed with them escaped.

const INVISIBLE = /[\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u;
const INVISIBLE_ALL = /[\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/gu;
// What escapeName escapes: the above, C0/C1 controls and DEL, and lone surrogates.
const UNPRINTABLE = /[\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\p{Cc}\p{Cs}]/gu;

/** `U+202E` for a character (its first code point). */
export function codePointLabel(char: string): string {
  return `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The label of the first invisible character in `text`, or undefined when it has none. */
export function invisibleCharacter(text: string): string | undefined {
  const m = INVISIBLE.exec(text);
  return m ? codePointLabel(m[0]) : undefined;
}

/** Every invisible character of `text`, as labels, in order (for error details). */
export function invisibleCharacters(text: string): string[] {
  return [...text.matchAll(INVISIBLE_ALL)].map((m) => codePointLabel(m[0]));
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
  UNPRINTABLE.lastIndex = 0;
  const plain = !UNPRINTABLE.test(text);
  UNPRINTABLE.lastIndex = 0;
  return plain ? text : escapeName(text);
}
