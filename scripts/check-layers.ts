// The import boundaries of src/ (docs/design/README.md), checked on every file's imports, type-only
// and dynamic ones included: which layers a layer may import, whether it may use Node's built-in
// modules, and which packages. `npm run lint:layers` prints the violations; `npm test` runs it
// (test/architecture/layers.test.ts), and feeds it forbidden imports to show it bites.
//
// The TypeScript compiler (already a dev dependency) lists each file's imports: a short check
// here rather than ESLint or dependency-cruiser, which would add a toolchain for one rule.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export type Layer = 'core' | 'api' | 'web' | 'db' | 'services' | 'server' | 'cli' | 'app' | 'config' | 'main' | 'generated';

interface Rule {
  /** Layers whose modules this layer may import (its own is always allowed). */
  may: Layer[];
  /** Whether node:* built-ins may be imported. */
  node: boolean;
  /** Packages it may import: 'any', or name prefixes. */
  packages: 'any' | string[];
  /** Why, for the report. */
  why: string;
}

export const RULES: Record<Exclude<Layer, 'generated'>, Rule> = {
  // fflate: inflating a deflated .npz member to read its header, in the browser too (pure code, no I/O).
  core: { may: [], node: false, packages: ['@noble/', 'fflate'], why: 'core is pure: no I/O, no other layer, no package but @noble/* and fflate' },
  api: { may: ['core'], node: false, packages: [], why: 'api (response shapes) imports only core' },
  // hash-wasm: SHA-256 at the hardware's speed in the verify page's workers (core keeps @noble).
  web: { may: ['core', 'api'], node: false, packages: ['hash-wasm'], why: 'the browser console imports only core, api and hash-wasm' },
  db: { may: ['core', 'generated'], node: true, packages: 'any', why: 'db imports only core (and the generated Prisma client)' },
  services: { may: ['db', 'core'], node: true, packages: 'any', why: 'services import db and core, never the server, the CLI or the composition root' },
  server: { may: ['services', 'api', 'core'], node: true, packages: 'any', why: 'the server reaches the database only through services' },
  cli: { may: ['app', 'services', 'api', 'core', 'config'], node: true, packages: 'any', why: 'the CLI never imports the server or the database layer' },
  app: { may: ['server', 'services', 'db', 'api', 'core', 'config', 'cli'], node: true, packages: 'any', why: 'the composition root may import anything' },
  config: { may: ['core'], node: true, packages: [], why: 'config.ts reads the environment and imports only core' },
  main: { may: ['cli'], node: true, packages: [], why: 'main.ts only dispatches to commands' },
};

/** The layer of a path relative to the repository root (src/...), or undefined outside src. */
export function layerOf(file: string): Layer | undefined {
  const parts = file.split('/');
  if (parts[0] !== 'src') return undefined;
  if (parts[1] === 'config.ts') return 'config';
  if (parts[1] === 'main.ts') return 'main';
  return (['core', 'api', 'web', 'db', 'services', 'server', 'cli', 'app', 'generated'] as const).find((l) => l === parts[1]);
}

export interface Violation {
  file: string;
  specifier: string;
  message: string;
}

/** Checks the imports of `files` (path relative to the repository root → source text). */
export function checkLayers(files: ReadonlyMap<string, string>): Violation[] {
  const violations: Violation[] = [];
  for (const [file, text] of files) {
    const from = layerOf(file);
    if (!from || from === 'generated') continue;
    const rule = RULES[from];
    for (const { fileName: specifier } of ts.preProcessFile(text, true, true).importedFiles) {
      const refuse = (message: string) => violations.push({ file, specifier, message: `${message} (${rule.why})` });
      if (specifier.startsWith('.')) {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
        const to = layerOf(target);
        if (!to) refuse(`${from} imports ${target}, outside src`);
        else if (to !== from && !rule.may.includes(to)) refuse(`${from} imports ${to} (${target})`);
      } else if (specifier.startsWith('node:') || BUILTINS.has(specifier)) {
        if (!rule.node) refuse(`${from} imports the Node built-in ${specifier}`);
      } else if (rule.packages !== 'any' && !rule.packages.some((p) => specifier.startsWith(p))) {
        refuse(`${from} imports the package ${specifier}`);
      }
    }
  }
  return violations;
}

/**
 * The import circles among `files` (value and type imports alike: a type-only circle still ties
 * two modules' designs together), each as the files of one strongly connected component, sorted.
 * A circle is a module that can neither be understood nor moved without the others.
 */
export function findCircles(files: ReadonlyMap<string, string>): string[][] {
  const edges = new Map<string, string[]>();
  for (const [file, text] of files) {
    const targets = ts
      .preProcessFile(text, true, true)
      .importedFiles.map((i) => i.fileName)
      .filter((s) => s.startsWith('.'))
      .map((s) => path.posix.normalize(path.posix.join(path.posix.dirname(file), s)))
      .filter((t) => files.has(t));
    edges.set(file, targets);
  }
  // Tarjan's strongly connected components, iterative (deep import chains would overflow recursion).
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const circles: string[][] = [];
  for (const start of edges.keys()) {
    if (index.has(start)) continue;
    const work: [string, number][] = [[start, 0]];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const [node, k] = frame;
      const out = edges.get(node)!;
      if (k < out.length) {
        frame[1]++;
        const to = out[k]!;
        if (!index.has(to)) {
          index.set(to, next);
          low.set(to, next++);
          stack.push(to);
          onStack.add(to);
          work.push([to, 0]);
        } else if (onStack.has(to)) low.set(node, Math.min(low.get(node)!, index.get(to)!));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1]![0];
        low.set(parent, Math.min(low.get(parent)!, low.get(node)!));
      }
      if (low.get(node) === index.get(node)) {
        const component: string[] = [];
        for (let m = stack.pop()!; ; m = stack.pop()!) {
          onStack.delete(m);
          component.push(m);
          if (m === node) break;
        }
        if (component.length > 1 || out.includes(node)) circles.push(component.sort());
      }
    }
  }
  return circles.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** Layers that speak the HTTP contract and must take its shapes from src/api (wire.ts, presenters). */
const WIRE_READERS: readonly Layer[] = ['server', 'cli', 'web'];
const WIRE_NAME = /(View|Json|Body|Query|Querystring|Reply|Response|Dto)$/;
const ROUTE_METHODS = new Set(['get', 'post', 'put', 'patch', 'delete', 'head', 'route']);

/**
 * Wire shapes written by hand where the contract's generated types belong (docs/design/README.md,
 * "A new response field"): in the server, the CLI and the console, a route generic that is an
 * object literal (`app.post<{ Body: {...} }>` instead of `RouteOf<'operationId'>`), an object type
 * named like a request or response (`...View`, `...Json`, `...Body`, `...Query`, `...Reply`,
 * `...Response`, `...Dto`), or a `...View` type imported from a service. Not caught: a shape under
 * another name; the names are the house's, and this keeps them honest.
 */
export function findWireShapes(files: ReadonlyMap<string, string>): Violation[] {
  const found: Violation[] = [];
  for (const [file, text] of files) {
    const layer = layerOf(file);
    if (!layer || !WIRE_READERS.includes(layer)) continue;
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
    const report = (node: ts.Node, what: string) =>
      found.push({ file, specifier: node.getText(source).split('\n')[0]!.slice(0, 80), message: `${what}: take it from src/api (wire.ts's Wire, RouteOf, ResponseOf, or a presenter)` });
    const isObjectShape = (t: ts.TypeNode | undefined): boolean => t !== undefined && (ts.isTypeLiteralNode(t) || (ts.isIntersectionTypeNode(t) && t.types.some(ts.isTypeLiteralNode)));
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && node.typeArguments?.length && ts.isPropertyAccessExpression(node.expression) && ROUTE_METHODS.has(node.expression.name.text)) {
        if (node.typeArguments.some((t) => isObjectShape(t))) report(node.typeArguments[0]!, 'a route generic written by hand');
      }
      if (ts.isInterfaceDeclaration(node) && WIRE_NAME.test(node.name.text)) report(node.name, `a wire shape declared outside src/api (${node.name.text})`);
      if (ts.isTypeAliasDeclaration(node) && WIRE_NAME.test(node.name.text) && isObjectShape(node.type)) report(node.name, `a wire shape declared outside src/api (${node.name.text})`);
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier) && /\/services\//.test(node.moduleSpecifier.text)) {
        const named = node.importClause?.namedBindings;
        if (named && ts.isNamedImports(named)) for (const e of named.elements) if (/View$/.test(e.name.text)) report(e, `a service's view (${e.name.text})`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

const BUILTINS = new Set(['fs', 'path', 'os', 'crypto', 'net', 'http', 'https', 'child_process', 'worker_threads', 'stream', 'url', 'util', 'events', 'zlib', 'tls', 'dns', 'vm', 'buffer', 'process', 'timers', 'readline']);

/** Every .ts file under src/ (but the generated client), as checkLayers takes them. */
export function sourceFiles(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) {
        if (rel !== 'src/generated') walk(rel);
      } else if (e.name.endsWith('.ts')) {
        out.set(rel, readFileSync(path.join(root, rel), 'utf8'));
      }
    }
  };
  walk('src');
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
  const files = sourceFiles(root);
  const violations = checkLayers(files);
  for (const v of violations) console.error(`${v.file}: ${JSON.stringify(v.specifier)}: ${v.message}`);
  console.log(violations.length === 0 ? 'layers: every import of src/ keeps to its layer' : `layers: ${violations.length} forbidden imports`);
  const shapes = findWireShapes(files);
  for (const v of shapes) console.error(`${v.file}: ${v.specifier}: ${v.message}`);
  console.log(shapes.length === 0 ? 'wire types: every request and response shape comes from src/api' : `wire types: ${shapes.length} shapes written by hand`);
  const circles = findCircles(files);
  for (const c of circles) console.error(`import circle: ${c.join(' ↔ ')}`);
  console.log(circles.length === 0 ? 'circles: no module imports itself through others' : `circles: ${circles.length} import circles`);
  process.exitCode = violations.length === 0 && shapes.length === 0 && circles.length === 0 ? 0 : 1;
}
