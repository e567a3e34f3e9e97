// `modelsign hash PATH`: the OMS manifest of a model folder or file, computed the way `sign` and
// `verify` do (same listing rules, same ignore paths).
import { buildManifest } from '../core/manifest.ts';
import { printableName } from '../core/unicode.ts';
import { parse } from './args.ts';
import { CliFailure, EXIT } from './exit-codes.ts';
import { hashFiles, progressReporter, type HashedFile } from './hash-files.ts';
import { describeContent, unsafeFiles } from './content-report.ts';
import { DEFAULT_IGNORE_PATHS, listModel, ModelPathError, type ModelListing } from './model-files.ts';

const USAGE = `Usage: modelsign hash PATH [--ignore PATH]... [--allow-symlinks] [--json]

Prints the SHA-256 of every file of a model folder (or of one checkpoint file) and the root
digest the signature covers. In a folder, ${DEFAULT_IGNORE_PATHS.join(', ')} and --ignore paths
are left out. A Hugging Face cache snapshot is recognised and its links into blobs/ followed.
The content check runs in the same pass: files that can run code when loaded or are malformed
are named on stderr (and in --json), which does not change the exit code (see \`modelsign scan\`).
Exit codes: 0 ok, 2 usage, 4 a path cannot be read or is refused (symlink, special file, unsafe
name).`;

export interface HashedModel {
  listing: ModelListing;
  /** In manifest order; with `content` when the content check ran. */
  files: HashedFile[];
  ignorePaths: string[];
  rootDigest: string;
}

/** Lists and hashes a model; refuses symlinks, special files and unsafe names with one line. */
export interface HashOptions {
  ignore: string[];
  allowSymlinks: boolean;
  progress: boolean;
  /** Run the content check in the hashing pass (on unless asked otherwise). */
  check?: boolean;
}

export async function hashModel(target: string, options: HashOptions): Promise<HashedModel> {
  let listing: ModelListing;
  const ignorePaths = [...new Set([...DEFAULT_IGNORE_PATHS, ...options.ignore])];
  try {
    listing = await listModel(target, { allowSymlinks: options.allowSymlinks, ignorePaths });
  } catch (err) {
    if (err instanceof ModelPathError) throw new CliFailure(EXIT.io, err.message);
    throw err;
  }
  if (listing.problems.length > 0) {
    const first = listing.problems[0]!;
    throw new CliFailure(EXIT.io, `${first.message}${listing.problems.length > 1 ? ` (and ${listing.problems.length - 1} more)` : ''}`);
  }
  if (listing.files.length === 0) throw new CliFailure(EXIT.io, `${target} holds no files to sign`);
  const total = listing.files.reduce((n, f) => n + f.size, 0);
  const progress = options.progress ? progressReporter(total, 'hashing') : undefined;
  let files: HashedFile[];
  try {
    files = await hashFiles(listing.files, (n) => progress?.add(n), { check: options.check !== false });
  } catch (err) {
    throw new CliFailure(EXIT.io, (err as Error).message);
  } finally {
    progress?.done();
  }
  const kept = listing.kind === 'folder' ? ignorePaths : [];
  const manifest = buildManifest(files, kept);
  const content = new Map(files.map((f) => [f.path, f.content]));
  return {
    listing,
    files: manifest.files.map((f) => ({ path: f.path, sha256: f.sha256, size: f.size ?? 0, ...(content.get(f.path) ? { content: content.get(f.path)! } : {}) })),
    ignorePaths: manifest.ignorePaths,
    rootDigest: manifest.rootDigest,
  };
}

/** The line that says a folder was read under a Hugging Face layout's rules (nothing for a plain folder). */
export function layoutNote(listing: ModelListing | ModelListing['layout']): string | undefined {
  const layout = typeof listing === 'string' ? listing : listing.layout;
  const repo = typeof listing === 'string' ? undefined : listing.hfRepository;
  if (layout === 'hf-snapshot') return `Hugging Face cache snapshot${repo ? ` of ${repo.slice(repo.lastIndexOf('/') + 1)}` : ''}: links followed only into its blobs/, files named by their link paths`;
  if (layout === 'hf-local-dir') return 'Hugging Face --local-dir download: .cache/huggingface/ ignored';
  return undefined;
}

export async function hash(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    { json: { type: 'boolean', default: false }, ignore: { type: 'string', multiple: true, default: [] }, 'allow-symlinks': { type: 'boolean', default: false } },
    USAGE,
  );
  if (positionals.length !== 1) throw new CliFailure(EXIT.usage, `give one PATH\n\n${USAGE}`);
  const model = await hashModel(positionals[0]!, { ignore: values.ignore!, allowSymlinks: values['allow-symlinks']!, progress: !values.json });
  if (values.json) {
    process.stdout.write(JSON.stringify({ path: positionals[0], layout: model.listing.layout, rootDigest: model.rootDigest, ignorePaths: model.ignorePaths, files: model.files }) + '\n');
  } else {
    const note = layoutNote(model.listing);
    if (note) process.stderr.write(`${note}\n`);
    for (const f of unsafeFiles(model.files)) process.stderr.write(`content: ${describeContent(f.path, f.content)}\n`);
    // Listing refused unsafe names already; printed escaped all the same (a name is never trusted to display as itself).
    for (const f of model.files) process.stdout.write(`${f.sha256}  ${printableName(f.path)}\n`);
    process.stdout.write(`${model.rootDigest}  (root digest of ${model.files.length} files)\n`);
  }
  return EXIT.ok;
}
