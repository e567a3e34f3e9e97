// What a model is on disk: a folder of files (nested), or a single checkpoint file. Listing is
// where path safety is enforced: names must be safe manifest paths; symlinks are refused unless
// allowed, and even then only to regular files inside the model's root; FIFOs, sockets and
// devices are refused (reading one could hang or read a device). Nothing is opened here.
//
// A Hugging Face hub cache snapshot (`models--ORG--NAME/snapshots/REV`, every file a relative
// link into the repository's `blobs/`) is recognised by its path and followed under its own
// rule: a link is followed only when it resolves, without any other link on the way, to a
// regular file directly in that repository's `blobs/` (named by its hash). Files are named by
// their link paths, so one bundle verifies the linked snapshot, a copied one (Windows, or
// HF_HUB_DISABLE_SYMLINKS) and an `hf download --local-dir` folder (whose .cache/huggingface/
// is ignored).
import { lstat, readdir, readlink, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { compareCodePoints, isIgnoredPath, pathProblem } from '../core/manifest.ts';
import { escapeName } from '../core/unicode.ts';
import { PROOF_FILE_NAME } from '../core/tlog/tlog-proof.ts';

/** Where `hf download --local-dir` keeps its download state (timestamps: it changes). */
const HF_LOCAL_DIR_STATE = '.cache/huggingface';

/** The paths the OpenSSF model_signing tool ignores in a folder by default (and the bundle itself and its witness proof). */
export const DEFAULT_IGNORE_PATHS = ['.git', '.gitattributes', '.github', '.gitignore', 'model.sig', PROOF_FILE_NAME, HF_LOCAL_DIR_STATE];

export interface ModelFile {
  /** Relative POSIX path as it appears in the manifest. */
  path: string;
  /** Absolute path to read. */
  abs: string;
  size: number;
}

export type FileProblemCode = 'symlink_refused' | 'symlink_outside' | 'special_file' | 'path_unsafe';

export interface FileProblem {
  code: FileProblemCode;
  path: string;
  message: string;
}

export interface ModelListing {
  kind: 'folder' | 'file';
  root: string;
  files: ModelFile[];
  problems: FileProblem[];
  /** How the folder was read: a plain folder, a hub cache snapshot, or a --local-dir download. */
  layout: 'plain' | 'hf-snapshot' | 'hf-local-dir';
  /** The hub repository folder (`models--ORG--NAME`) of a snapshot. */
  hfRepository?: string;
  /** Whether any file was reached through a symlink (recorded as allow_symlinks when signed). */
  linked: boolean;
}

const HF_SNAPSHOT = /^(.*\/(?:models|datasets|spaces)--[^/]+)\/snapshots\/[0-9a-f]{40}$/;
const HF_BLOB = /^[0-9a-f]{40}$|^[0-9a-f]{64}$/;

/** The repository folder of a hub cache snapshot, when `realRoot` is one (its blobs/ a real folder). */
async function hfRepositoryOf(realRoot: string): Promise<string | undefined> {
  const repo = HF_SNAPSHOT.exec(realRoot)?.[1];
  if (repo === undefined) return undefined;
  const blobs = await lstat(path.join(repo, 'blobs')).catch(() => undefined);
  return blobs?.isDirectory() ? repo : undefined;
}

export class ModelPathError extends Error {
  override readonly name = 'ModelPathError';
}

export async function listModel(target: string, options: { allowSymlinks: boolean; ignorePaths: readonly string[] }): Promise<ModelListing> {
  const root = path.resolve(target);
  let info;
  try {
    info = await lstat(root);
  } catch (err) {
    throw new ModelPathError(`${target}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : (err as Error).message}`);
  }
  if (info.isSymbolicLink() && !options.allowSymlinks) throw new ModelPathError(`${target} is a symlink; pass --allow-symlinks to follow it`);
  if (info.isSymbolicLink()) info = await stat(root);
  if (info.isFile()) {
    const name = path.basename(root);
    const problem = pathProblem(name);
    return {
      kind: 'file',
      root: path.dirname(root),
      files: problem ? [] : [{ path: name, abs: root, size: info.size }],
      problems: problem ? [{ code: 'path_unsafe', path: name, message: `${escapeName(name)} ${problem}` }] : [],
      layout: 'plain',
      linked: root !== (await realpath(root)),
    };
  }
  if (!info.isDirectory()) throw new ModelPathError(`${target} is neither a file nor a folder`);
  const realRoot = await realpath(root);
  const hfRepository = await hfRepositoryOf(realRoot);
  const realBlobs = hfRepository ? await realpath(path.join(hfRepository, 'blobs')) : undefined;
  const localDir = !hfRepository && (await lstat(path.join(root, HF_LOCAL_DIR_STATE)).catch(() => undefined))?.isDirectory() === true;
  const files: ModelFile[] = [];
  const problems: FileProblem[] = [];
  let linked = false;
  /** A snapshot's link, followed only onto a regular file directly in its repository's blobs/. */
  const followBlobLink = async (abs: string, rel: string): Promise<void> => {
    const refuse = (code: FileProblemCode, why: string) => problems.push({ code, path: rel, message: `${escapeName(rel)} ${why}` });
    const target = await readlink(abs);
    // Resolved by text first, from the link's real folder: no other link may be on the way.
    const lexical = path.resolve(path.join(realRoot, path.dirname(rel)), target);
    const name = path.basename(lexical);
    if (path.dirname(lexical) !== path.join(hfRepository!, 'blobs') || !HF_BLOB.test(name)) {
      refuse('symlink_outside', `links to ${escapeName(target)}, which is not a blob of this repository (${path.basename(hfRepository!)}/blobs/<hash>)`);
      return;
    }
    const blob = await lstat(lexical).catch(() => undefined);
    if (!blob) return void refuse('symlink_outside', `is a dangling link (${escapeName(target)})`);
    if (blob.isSymbolicLink()) return void refuse('symlink_outside', `links to ${escapeName(target)}, itself a link: a chain of links is refused`);
    if (!blob.isFile()) return void refuse('special_file', `links to ${escapeName(target)}, which is not a regular file`);
    const real = await realpath(abs).catch(() => undefined);
    if (real !== path.join(realBlobs!, name)) return void refuse('symlink_outside', `resolves through another link to ${escapeName(real ?? '?')}`);
    linked = true;
    files.push({ path: rel, abs: real, size: blob.size });
  };
  const walk = async (dir: string, prefix: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      throw new ModelPathError(`cannot read folder ${path.join(target, prefix)}: ${(err as Error).message}`);
    }
    for (const entry of entries) {
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (isIgnoredPath(rel, options.ignorePaths)) continue;
      const abs = path.join(dir, entry.name);
      const unsafe = pathProblem(rel);
      if (unsafe) {
        problems.push({ code: 'path_unsafe', path: rel, message: `${escapeName(rel)} ${unsafe}` });
        continue;
      }
      if (entry.isDirectory()) {
        await walk(abs, rel);
      } else if (entry.isFile()) {
        files.push({ path: rel, abs, size: (await lstat(abs)).size });
      } else if (entry.isSymbolicLink() && hfRepository) {
        await followBlobLink(abs, rel);
      } else if (entry.isSymbolicLink()) {
        if (!options.allowSymlinks) {
          problems.push({ code: 'symlink_refused', path: rel, message: `${rel} is a symlink (pass --allow-symlinks to accept links inside the model)` });
          continue;
        }
        let target: string;
        try {
          target = await realpath(abs);
        } catch {
          problems.push({ code: 'symlink_outside', path: rel, message: `${rel} is a dangling symlink` });
          continue;
        }
        if (target !== realRoot && !target.startsWith(realRoot + path.sep)) {
          problems.push({ code: 'symlink_outside', path: rel, message: `${rel} points outside the model (${target})` });
          continue;
        }
        const resolved = await stat(target);
        if (!resolved.isFile()) {
          problems.push({ code: 'special_file', path: rel, message: `${rel} links to something that is not a regular file` });
          continue;
        }
        linked = true;
        files.push({ path: rel, abs: target, size: resolved.size });
      } else {
        problems.push({ code: 'special_file', path: rel, message: `${rel} is not a regular file (FIFO, socket or device)` });
      }
    }
  };
  await walk(root, '');
  files.sort((a, b) => compareCodePoints(a.path, b.path));
  const layout = hfRepository ? 'hf-snapshot' : localDir ? 'hf-local-dir' : 'plain';
  return { kind: 'folder', root, files, problems, layout, linked, ...(hfRepository ? { hfRepository } : {}) };
}

/** Where a model's bundle lives by default: `model.sig` inside a folder, `FILE.sig` beside a file. */
export async function defaultBundlePath(target: string): Promise<string> {
  const info = await stat(target).catch(() => undefined);
  return info?.isDirectory() ? path.join(target, 'model.sig') : `${target}.sig`;
}
