// The permission part of `modelsign audit`: the threat analysis's first mitigation is that nobody
// but the model's owner can write to the model folder. Reported: model files and folders (and
// their bundles) writable by group or others or not owned by the expected owner, and every parent
// folder up to / that someone else can write (so could swap the whole model folder). A sticky
// folder (like /tmp) lets others write but not replace an entry they do not own, so it is judged
// by the owner of the entry below it. POSIX mode bits only: ACLs are not read (README).
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';

export interface PermissionFinding {
  path: string;
  problem: 'group-writable' | 'world-writable' | 'owner' | 'parent-writable';
  /** The same in words. */
  detail: string;
}

const STICKY = 0o1000;

/** Findings for each root (a model folder or file, or a folder of them), with `owner` the uid expected to own everything. */
export async function auditPermissions(roots: string[], owner: number): Promise<PermissionFinding[]> {
  const findings: PermissionFinding[] = [];
  const seen = new Set<string>();
  const add = (f: PermissionFinding) => {
    const key = `${f.path}\u0000${f.problem}`;
    if (!seen.has(key)) {
      seen.add(key);
      findings.push(f);
    }
  };
  const trusted = (uid: number) => uid === owner || uid === 0;

  const visit = async (p: string): Promise<void> => {
    const info = await lstat(p);
    if (info.isSymbolicLink()) return; // a link's own mode means nothing; what it points to is checked where it lives
    const what = info.isDirectory() ? 'folder' : 'file';
    if (info.mode & 0o002) add({ path: p, problem: 'world-writable', detail: `${p}: the ${what} is writable by everyone (mode ${(info.mode & 0o7777).toString(8)})` });
    else if (info.mode & 0o020) add({ path: p, problem: 'group-writable', detail: `${p}: the ${what} is writable by its group (gid ${info.gid}, mode ${(info.mode & 0o7777).toString(8)})` });
    if (info.uid !== owner) add({ path: p, problem: 'owner', detail: `${p}: the ${what} is owned by uid ${info.uid}, not ${owner}` });
    if (info.isDirectory()) for (const entry of (await readdir(p)).sort()) await visit(path.join(p, entry));
  };

  for (const root of roots) {
    const absolute = path.resolve(root);
    await visit(absolute);
    // Every folder above the root: can anyone but the owner (or root) replace what is below it?
    let child = absolute;
    for (let parent = path.dirname(absolute); ; parent = path.dirname(parent)) {
      const info = await lstat(parent);
      const below = await lstat(child);
      const others = info.mode & 0o022;
      if (!trusted(info.uid)) {
        add({ path: parent, problem: 'parent-writable', detail: `${parent}: a folder above ${absolute} is owned by uid ${info.uid}, who can replace what is in it` });
      } else if (others && !(info.mode & STICKY)) {
        add({ path: parent, problem: 'parent-writable', detail: `${parent}: a folder above ${absolute} is writable by ${info.mode & 0o002 ? 'everyone' : `its group (gid ${info.gid})`} (mode ${(info.mode & 0o7777).toString(8)}), so ${path.basename(child)} can be replaced` });
      } else if (others && !trusted(below.uid)) {
        add({ path: child, problem: 'parent-writable', detail: `${child}: in the sticky folder ${parent}, owned by uid ${below.uid}, who can replace it` });
      }
      if (parent === child || parent === path.dirname(parent)) break;
      child = parent;
    }
  }
  return findings;
}

/** A user name or numeric uid, as --owner takes it (names looked up in /etc/passwd). */
export async function uidOf(owner: string, readPasswd: () => Promise<string>): Promise<number | undefined> {
  if (/^[0-9]+$/.test(owner)) return Number(owner);
  for (const line of (await readPasswd()).split('\n')) {
    const [name, , uid] = line.split(':');
    if (name === owner && uid !== undefined && /^[0-9]+$/.test(uid)) return Number(uid);
  }
  return undefined;
}
