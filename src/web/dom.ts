// The console's only way to put things on the page: elements built with properties and text
// children, never markup parsed from a string, so a file name or a publisher name from the
// server is always shown as text (the test suite fails on any innerHTML or insertAdjacentHTML
// under src/web).
export type Child = Node | string | number | null | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<Record<string, string>> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) if (value !== undefined) node.setAttribute(name, value);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
  return node;
}

/** Replaces everything inside `parent`. */
export function show(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

/** A message the user must notice (a refusal, a failure): announced by screen readers at once. */
export function alertText(text: string): HTMLParagraphElement {
  return el('p', { role: 'alert', class: 'error' }, text);
}
