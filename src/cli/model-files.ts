// What a model is on disk: a folder of files (nested), or a single checkpoint file. Listing is
// where path safety is enforced: names must be safe manifest paths; symlinks are refused unless
// allowed, and even then only to regular files inside the model's root; FIFOs, sockets and
// devices are refused (reading one could hang or read a device). Nothing is opened here.
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { compareCodePoints, isIgnoredPath, pathProblem } from '../core/manifest.ts';
import { escapeName } from '../core/unicode.ts';

/** The paths the OpenSSF model_signing tool ignores in a folder by default (and the bundle itself). */
export const DEFAULT_IGNORE_PATHS = ['.git', '.gitattributes', '.github', '.gitignore', 'model.sig'];

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
    };
  }
  if (!info.isDirectory()) throw new ModelPathError(`${target} is neither a file nor a folder`);
  const realRoot = await realpath(root);
  const files: ModelFile[] = [];
  const problems: FileProblem[] = [];
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
        files.push({ path: rel, abs: target, size: resolved.size });
      } else {
        problems.push({ code: 'special_file', path: rel, message: `${rel} is not a regular file (FIFO, socket or device)` });
      }
    }
  };
  await walk(root, '');
  files.sort((a, b) => compareCodePoints(a.path, b.path));
  return { kind: 'folder', root, files, problems };
}

/** Where a model's bundle lives by default: `model.sig` inside a folder, `FILE.sig` beside a file. */
export async function defaultBundlePath(target: string): Promise<string> {
  const info = await stat(target).catch(() => undefined);
  return info?.isDirectory() ? path.join(target, 'model.sig') : `${target}.sig`;
}
