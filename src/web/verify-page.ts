// "Verify a model you have": the user picks or drops files or a folder (with model.sig or
// FILE.sig, or without, to look the release up by a file's digest). Files are hashed and content-
// checked in Web Workers (hash-pool.ts) and never leave the machine; the bundle is verified with
// the portable verifier against the trusted keys (trust.ts). The verdict names every changed,
// missing, extra, unreadable and unsafe file, with the reasons in words.
import type { Wire } from '../api/wire.ts';
import type { Reason } from '../core/verifier.ts';
import { readClaim, readEnvelope, type ReleaseClaim } from '../core/read-bundle.ts';
import type { ContentReport } from '../core/scan/verdict.ts';
import { api, problemText } from './api-client.ts';
import { alertText, el, show, type Child } from './dom.ts';
import { Cancelled, describeProgress, HashPool, type Hashed, type Picked } from './hash-pool.ts';
import type { HasherKind } from './sha256.ts';
import { currentTrust, forgetPasted, usePasted, usingPasted, type Trust } from './trust.ts';
import { compareHashed, MAX_FILES, planVerification, verifyWithTrust, type WitnessChoice } from './verify-plan.ts';
import { currentWitnessPolicy, witnessPanel } from './witnesses.ts';

type Mode = 'folder' | 'files';

const UNSAFE = new Set(['code-capable', 'malformed']);

class Refusal extends Error {}

let pool: HashPool | undefined;
let generation = 0;

export function verifyPage(content: HTMLElement, workerUrl: string): void {
  const filesInput = el('input', { id: 'pick-files', type: 'file', multiple: '' });
  const folderInput = el('input', { id: 'pick-folder', type: 'file', webkitdirectory: '' });
  const drop = el('div', { class: 'drop', id: 'drop', tabindex: '0', role: 'group', 'aria-label': 'Drop zone for files or a folder' }, 'Or drop files or a folder here.');
  const status = el('div', { id: 'verify-status', 'aria-live': 'polite' });
  const result = el('div', { id: 'verify-result' });

  const run = (picked: Picked[], mode: Mode) => {
    void verifyPicked(picked, mode, workerUrl, status, result).finally(() => {
      filesInput.value = '';
      folderInput.value = '';
    });
  };
  filesInput.addEventListener('change', () => run([...(filesInput.files ?? [])].map((file) => ({ path: file.name, file })), 'files'));
  folderInput.addEventListener('change', () => run([...(folderInput.files ?? [])].map((file) => ({ path: withoutTop(file.webkitRelativePath || file.name), file })), 'folder'));
  drop.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    const items = event.dataTransfer ? [...event.dataTransfer.items] : [];
    droppedFiles(items, event.dataTransfer?.files)
      .then(({ picked, mode }) => run(picked, mode))
      .catch((err: unknown) => show(status, alertText(`The dropped items could not be read: ${problemText(err)}`)));
  });

  show(
    content,
    el('h2', {}, 'Verify a model you have'),
    el('p', {}, 'Pick the model files with their bundle (model.sig, or FILE.sig for one file), or a whole folder. Without a bundle the page looks the release up by the files\' SHA-256. Files are read and hashed in your browser; nothing is uploaded.'),
    el(
      'div',
      { class: 'pickers' },
      el('div', {}, el('label', { for: 'pick-files' }, 'Pick files'), filesInput),
      el('div', {}, el('label', { for: 'pick-folder' }, 'Pick a folder'), folderInput),
    ),
    drop,
    el('p', { class: 'hint' }, `At most ${MAX_FILES.toLocaleString('en')} files at a time; a bundle over 8 MiB is refused unread.`),
    trustPanel(),
    witnessPanel(),
    status,
    result,
  );
}

function withoutTop(relative: string): string {
  const slash = relative.indexOf('/');
  return slash < 0 ? relative : relative.slice(slash + 1);
}

// One dropped folder is checked as a folder (paths relative to it); anything else as files.
async function droppedFiles(items: DataTransferItem[], files: FileList | undefined): Promise<{ picked: Picked[]; mode: Mode }> {
  const entries = items.map((i) => i.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  if (entries.length === 1 && entries[0]!.isDirectory) {
    const picked: Picked[] = [];
    await walk(entries[0] as FileSystemDirectoryEntry, '', picked);
    return { picked, mode: 'folder' };
  }
  return { picked: [...(files ?? [])].map((file) => ({ path: file.name, file })), mode: 'files' };
}

async function walk(dir: FileSystemDirectoryEntry, prefix: string, out: Picked[]): Promise<void> {
  const reader = dir.createReader();
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return;
    for (const entry of batch) {
      if (out.length > MAX_FILES) return; // planVerification refuses it; no need to list the rest
      if (entry.isDirectory) await walk(entry as FileSystemDirectoryEntry, `${prefix}${entry.name}/`, out);
      else out.push({ path: `${prefix}${entry.name}`, file: await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject)) });
    }
  }
}

function trustPanel(): HTMLElement {
  const text = el('textarea', { id: 'trust-text', rows: '4', spellcheck: 'false', 'aria-describedby': 'trust-help' });
  const said = el('p', { id: 'trust-said', role: 'status' }, usingPasted() ? 'Using the key you pasted.' : 'Using this server\'s keys.');
  const use = el('button', { type: 'button', id: 'trust-use' }, 'Trust what I pasted');
  const reset = el('button', { type: 'button', class: 'secondary' }, 'Use this server\'s keys');
  use.addEventListener('click', () => {
    usePasted(text.value)
      .then((t) => show(said, `Using ${t.source}: ${t.keys.length} key${t.keys.length === 1 ? '' : 's'}.`))
      .catch((err: unknown) => show(said, el('span', { class: 'error' }, problemText(err))));
  });
  reset.addEventListener('click', () => {
    forgetPasted();
    show(said, 'Using this server\'s keys.');
  });
  return el(
    'details',
    { class: 'trust' },
    el('summary', {}, 'Which keys to trust'),
    el('p', { id: 'trust-help', class: 'hint' }, 'By default the page trusts the keys this server publishes, which shows only that the server vouches for the files. Paste a release key you pinned (PEM or JWK; the page follows the server\'s rotation chain from it and checks every link) or a key set (JWKS) you saved, to check against keys you got elsewhere.'),
    el('label', { for: 'trust-text' }, 'Pinned key or saved key set'),
    text,
    el('div', { class: 'row' }, use, reset),
    said,
  );
}


async function verifyPicked(picked: Picked[], mode: Mode, workerUrl: string, status: HTMLElement, result: HTMLElement): Promise<void> {
  // A new pick supersedes the run in progress: its workers stop, and nothing it learns after an
  // await is shown over the new run's progress.
  const mine = ++generation;
  const say = (node: HTMLElement, ...children: Child[]) => {
    if (mine === generation) show(node, ...children);
  };
  pool?.abort();
  show(result);
  const plan = planVerification(picked);
  if (!plan.ok) return say(status, alertText(plan.message));
  // The bundle is read before any hashing, so a bad one is said at once.
  let given: { claim: ReleaseClaim; bundle: unknown; name: string } | undefined;
  let witness: (WitnessChoice & { proofName: string | null }) | undefined;
  try {
    if (plan.bundle) given = await readBundleFile(plan.bundle);
    const policy = currentWitnessPolicy();
    if (policy) witness = { policy, proof: plan.proof ? await plan.proof.file.text() : undefined, proofName: plan.proof?.path ?? null };
  } catch (err) {
    return say(status, alertText(problemText(err)));
  }

  if (mine !== generation) return;
  const current = new HashPool(workerUrl);
  pool = current;
  const bar = el('progress', { max: '1', value: '0', 'aria-label': 'Hashing progress' });
  const words = el('span', { id: 'progress-text' }, 'Starting…');
  const cancel = el('button', { type: 'button', class: 'secondary' }, 'Cancel');
  cancel.addEventListener('click', () => current.abort());
  say(status, el('div', { class: 'progress' }, el('p', {}, `Hashing and checking ${plan.files.length} file${plan.files.length === 1 ? '' : 's'} in your browser…`), bar, words, cancel));
  let hashed: Hashed[];
  try {
    hashed = await current.run(plan.files, (p) => {
      bar.value = p.bytesTotal === 0 ? p.filesDone / p.filesTotal : p.bytesDone / p.bytesTotal;
      words.textContent = describeProgress(p);
    });
  } catch (err) {
    return say(status, err instanceof Cancelled ? el('p', { role: 'status' }, 'Cancelled. Nothing was checked.') : alertText(problemText(err)));
  } finally {
    if (pool === current) pool = undefined;
  }

  say(status, el('p', { role: 'status' }, 'Hashed. Checking the signature…'));
  try {
    const trust = await currentTrust();
    let found: { claim: ReleaseClaim; bundle: unknown; record?: Wire['Signature'] } | undefined = given;
    if (!found) {
      const record = await lookUp(hashed, mode);
      if (!record) {
        say(status);
        return say(result, notFound(hashed), fileTable(hashed, new Map(), [], 'not signed'), ...hasherNote(current.hasher));
      }
      const envelope = readEnvelope(record.bundle);
      const claim = envelope.ok ? readClaim(envelope.value.payload) : undefined;
      if (!claim?.ok) throw new Error('the server\'s bundle for that release could not be read');
      found = { claim: claim.value, bundle: record.bundle, record };
    }
    say(status);
    say(result, ...verdictView(found, hashed, mode, trust, witness), ...hasherNote(current.hasher));
  } catch (err) {
    say(status, alertText(problemText(err)));
  }
}

/** Said when the workers could not run WebAssembly and hashed with @noble/hashes instead. */
function hasherNote(hasher: HasherKind | undefined): HTMLElement[] {
  if (hasher?.kind !== 'noble') return [];
  return [el('p', { class: 'note', id: 'hasher-note' }, `SHA-256 ran in JavaScript (@noble/hashes), about four times slower: this page could not compile WebAssembly (${hasher.reason}). The digests are the same.`)];
}

async function readBundleFile(bundle: Picked): Promise<{ claim: ReleaseClaim; bundle: unknown; name: string }> {
  let text: string;
  try {
    text = await bundle.file.text();
  } catch (err) {
    throw new Refusal(`${bundle.path} could not be read: ${problemText(err)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Refusal(`${bundle.path} is not JSON, so it is not a bundle.`);
  }
  const envelope = readEnvelope(json);
  if (!envelope.ok) throw new Refusal(`${bundle.path} is not a modelsign bundle: ${envelope.reasons.map((r) => r.message).join('; ')}.`);
  const claim = readClaim(envelope.value.payload);
  if (!claim.ok) throw new Refusal(`${bundle.path} is not a modelsign bundle: ${claim.reasons.map((r) => r.message).join('; ')}.`);
  return { claim: claim.value, bundle: json, name: bundle.path };
}

// The release whose files best match: looked up by the digests of the largest files (a changed
// file is not found by its digest, the others are), closest match first.
async function lookUp(hashed: Hashed[], mode: Mode): Promise<Wire['Signature'] | undefined> {
  const readable = hashed.filter((h) => h.result).sort((a, b) => b.file.size - a.file.size);
  const present = digests(hashed);
  const seen = new Set<string>();
  let best: { record: Wire['Signature']; score: number } | undefined;
  for (const h of readable.slice(0, 5)) {
    const { items } = await api.signaturesByDigest(h.result!.sha256);
    for (const item of items.slice(0, 5)) {
      if (seen.has(item.id)) continue;
      seen.add(item.id);
      const record = await api.signature(item.id);
      const envelope = readEnvelope(record.bundle);
      const claim = envelope.ok ? readClaim(envelope.value.payload) : undefined;
      if (!claim?.ok) continue;
      const score = compareHashed(claim.value, present, mode).reasons.length;
      if (!best || score < best.score) best = { record, score };
    }
    if (best?.score === 0) break;
  }
  return best?.record;
}

const digests = (hashed: Hashed[]) => hashed.filter((h) => h.result).map((h) => ({ path: h.path, sha256: h.result!.sha256 }));

function notFound(hashed: Hashed[]): HTMLElement {
  return el(
    'section',
    { class: 'check bad', 'aria-label': 'Verdict' },
    el('p', { role: 'alert' }, 'No release signed by this server has these files.'),
    el('p', {}, `None of the digests of the ${hashed.length} file${hashed.length === 1 ? '' : 's'} below is in a release this server signed. If you have the bundle (model.sig), pick it with the files.`),
  );
}

function verdictView(found: { claim: ReleaseClaim; bundle: unknown; record?: Wire['Signature'] }, hashed: Hashed[], mode: Mode, trust: Trust, witness: (WitnessChoice & { proofName: string | null }) | undefined): HTMLElement[] {
  const hasLogKey = trust.keys.some((k) => k.purpose === 'log');
  const verdict = verifyWithTrust(found.bundle, trust.keys, witness, Date.now());
  const files = compareHashed(found.claim, digests(hashed), mode);
  // A file that could not be read is judged as not there (file_missing), its message saying why.
  const unreadable: Reason[] = hashed.filter((h) => h.error).map((h) => ({ code: 'file_missing', message: `${h.path} could not be read (${h.error}), so it was not checked`, path: h.path }));
  const reasons = [...verdict.reasons, ...files.reasons.filter((r) => !unreadable.some((u) => u.path === r.path)), ...unreadable];
  const unsafe = hashed.filter((h) => h.result && UNSAFE.has(h.result.content.verdict));
  const ok = reasons.length === 0 && unsafe.length === 0;
  const release = `${found.claim.model ?? found.claim.subject}@${found.claim.version ?? ''}`;
  const key = trust.keys.find((k) => k.kid === verdict.kid);
  const headline = ok
    ? `Verified: these files are ${release} as signed${found.record ? ` by ${found.record.publisher}` : ''}.`
    : reasons.length > 0
      ? `Not verified: these files are not ${release} as signed.`
      : `Signed, but ${unsafe.length} file${unsafe.length === 1 ? '' : 's'} can run code when loaded.`;
  const status = new Map<string, string>();
  for (const r of files.reasons) if (r.path) status.set(r.path, r.code === 'file_changed' ? 'changed' : r.code === 'file_extra' ? 'not signed' : 'missing');
  for (const u of unreadable) status.set(u.path!, 'unreadable');
  const missing = files.reasons.filter((r) => r.code === 'file_missing').map((r) => r.path!);
  return [
    el(
      'section',
      { class: ok ? 'check ok' : 'check bad', 'aria-label': 'Verdict' },
      el('p', { role: ok ? 'status' : 'alert' }, headline),
      reasons.length > 0 ? el('ul', { class: 'reasons' }, ...reasons.map((r) => el('li', {}, el('code', {}, r.code), `: ${r.message}`))) : null,
      unsafe.length > 0
        ? el(
            'div',
            { class: 'unsafe' },
            el('p', {}, 'Unsafe to load: a loader that unpickles these can run code in them.'),
            el('ul', {}, ...unsafe.map((h) => el('li', {}, el('span', { class: 'path' }, h.path), `: ${contentWords(h.result!.content)}`))),
          )
        : null,
      el(
        'dl',
        { class: 'facts' },
        el('dt', {}, 'Release'),
        el('dd', {}, release),
        el('dt', {}, 'Key'),
        el('dd', {}, el('code', {}, verdict.kid ?? 'none'), key ? ` (${key.algorithm}, ${key.status})` : ' (not a trusted key)'),
        el('dt', {}, 'Log entry'),
        el('dd', {}, !hasLogKey ? 'not checked: no log key is trusted' : verdict.logIndex === null ? 'not verified' : `${verdict.logIndex}${verdict.integratedTime === null ? '' : `, logged ${new Date(verdict.integratedTime * 1000).toISOString()}`}`),
        el('dt', {}, 'Witnesses'),
        el('dd', { id: 'witness-fact' }, !witness ? 'not required (no witness policy)' : `required: quorum ${witness.policy.quorum}${witness.proofName ? `; proof ${witness.proofName}` : '; no .tlog-proof picked'}`),
        el('dt', {}, 'Checked against'),
        el('dd', {}, trust.source, ...(trust.pinned ? [] : [': ', ...trust.keys.filter((k) => k.kid === verdict.kid || k.purpose === 'log').flatMap((k, i) => [i > 0 ? ', ' : '', el('code', {}, k.kid)])])),
      ),
      files.unchecked.length > 0 ? el('p', { class: 'hint' }, `Not checked (not picked): ${files.unchecked.join(', ')}. Pick the folder to check the whole release.`) : null,
    ),
    fileTable(hashed, status, missing),
  ];
}

function contentWords(report: ContentReport): string {
  const what = report.verdict === 'code-capable' ? 'can run code when loaded' : 'is malformed (a loader may misread it)';
  const why = report.findings.slice(0, 3).map((f) => f.message);
  return `${what}${report.format ? ` (${report.format})` : ''}${why.length > 0 ? `: ${why.join('; ')}` : ''}`;
}

const CONTENT_WORDS: Record<string, string> = {
  'data-only': 'data only',
  'allowlisted-pickle': 'pickle of known-safe types',
  'code-capable': 'can run code',
  malformed: 'malformed',
  unknown: 'not a model format',
};

function fileTable(hashed: Hashed[], status: Map<string, string>, missing: string[] = [], otherwise = 'matches'): HTMLElement {
  const rows = hashed.map((h) =>
    el(
      'tr',
      {},
      el('td', { class: 'path' }, h.path),
      el('td', {}, h.error ? 'unreadable' : status.get(h.path) ?? otherwise),
      el('td', {}, h.result ? CONTENT_WORDS[h.result.content.verdict] ?? h.result.content.verdict : '—'),
      el('td', {}, h.result ? el('code', {}, h.result.sha256) : h.error ?? ''),
    ),
  );
  for (const path of missing) rows.push(el('tr', {}, el('td', { class: 'path' }, path), el('td', {}, 'missing'), el('td', {}, '—'), el('td', {}, '')));
  return el(
    'section',
    { 'aria-label': 'Files checked' },
    el('h3', {}, `Files (${hashed.length})`),
    el(
      'table',
      { class: 'files' },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Path'), el('th', { scope: 'col' }, 'Signature'), el('th', { scope: 'col' }, 'Content'), el('th', { scope: 'col' }, 'SHA-256'))),
      el('tbody', {}, ...rows),
    ),
  );
}
