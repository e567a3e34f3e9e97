// "Verify a model you have" in headless Chromium against a real service:
// a signed folder and a single checkpoint verify green, picked with their bundle or looked up by
// digest; a changed byte, an added file and a missing file turn it red naming the file; a pickle
// with a code-capable global is shown unsafe; a bundle logged after its key's compromise time is
// red with key_revoked and both times; bad input (a non-bundle .sig, a 20 MB JSON file, a folder
// over the limit, a file that cannot be read) is answered in words and the page stays usable;
// a pasted pinned key is followed along the rotation chain; a pasted witness policy is enforced,
// with the release's .tlog-proof picked with its files.
// Runs once: the page reads the public routes whose storage behaviour test/server checks on both databases.
// Tier: external (it drives Chromium)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createTestApp, listenTestApp, type TestApp } from '../support/app.ts';
import { browserSkip, launchBrowser, SCREENSHOT_DIR, watchedPage } from '../support/browser.ts';
import { craftedTorchArchive, largeStateDict } from '../support/crafted-content.ts';
import { witnessVectors } from '../support/witness-vectors.ts';

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

// A safetensors file of one F32 tensor of two values.
function safetensors(values: [number, number]): Buffer {
  const header = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  const data = Buffer.alloc(8);
  data.writeFloatLE(values[0], 0);
  data.writeFloatLE(values[1], 4);
  return Buffer.concat([len, header, data]);
}

// Protocol 2: GLOBAL os.system, the argument 'id', TUPLE1, REDUCE, STOP. Never unpickled.
const EVIL_PICKLE = Buffer.concat([Buffer.from([0x80, 0x02]), Buffer.from('cos\nsystem\n'), Buffer.from([0x58, 2, 0, 0, 0]), Buffer.from('id'), Buffer.from([0x85, 0x52, 0x2e])]);

describe('verify a model in the browser', { skip: browserSkip }, () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  let work: string;
  let token: string;

  async function signFolder(model: string, version: string, dir: string, files: string[], bundleName = 'model.sig'): Promise<void> {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/signatures',
      headers: { authorization: `Bearer ${token}` },
      payload: { model, version, files: files.map((f) => ({ path: f, sha256: sha(readFileSync(path.join(dir, f))), size: readFileSync(path.join(dir, f)).length })) },
    });
    assert.equal(res.statusCode, 201, res.body);
    const [ns, name] = model.split('/');
    for (let i = 0; i < 100; i++) {
      const bundle = await t.app.inject({ url: `/v1/models/${ns}/${name}/versions/${version}/bundle` });
      if (bundle.json().verificationMaterial.tlogEntries.length > 0) return writeFileSync(path.join(dir, bundleName), bundle.body);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('no checkpoint covered the release');
  }

  const verdict = (page: Page) => page.locator('section[aria-label="Verdict"]');
  async function open(): Promise<{ page: Page; problems: string[] }> {
    const watched = await watchedPage(browser);
    await watched.page.goto(`${base}/#/verify`);
    await watched.page.getByRole('heading', { name: 'Verify a model you have' }).waitFor();
    return watched;
  }

  before(async () => {
    t = await createTestApp();
    base = await listenTestApp(t);
    browser = await launchBrowser();
    token = await t.publisherToken('acme');
    work = mkdtempSync(path.join(tmpdir(), 'modelsign-web-verify-'));
    const sd = path.join(work, 'sd');
    mkdirSync(path.join(sd, 'unet'), { recursive: true });
    writeFileSync(path.join(sd, 'config.json'), '{"model_type":"tiny"}\n');
    writeFileSync(path.join(sd, 'unet', 'w.safetensors'), safetensors([1, 2]));
    writeFileSync(path.join(sd, 'vae.safetensors'), safetensors([3, 4]));
    await signFolder('acme/sd', '1.0', sd, ['config.json', 'unet/w.safetensors', 'vae.safetensors']);
    const one = path.join(work, 'one');
    mkdirSync(one);
    writeFileSync(path.join(one, 'tiny.safetensors'), safetensors([5, 6]));
    await signFolder('acme/tiny', '1.0', one, ['tiny.safetensors'], 'tiny.safetensors.sig');
    const evil = path.join(work, 'evil');
    mkdirSync(evil);
    writeFileSync(path.join(evil, 'model.pt'), EVIL_PICKLE);
    await signFolder('acme/evil', '1.0', evil, ['model.pt']);
    // torch's own layout over 1 MiB (sizes only in data descriptors): a benign state dict, and the
    // archive crafted against a checker that kept views of its read buffer.
    const torch = path.join(work, 'torch');
    mkdirSync(torch);
    writeFileSync(path.join(torch, 'big.pt'), largeStateDict(2 * 1024 * 1024));
    writeFileSync(path.join(torch, 'crafted.pt'), craftedTorchArchive());
    await signFolder('acme/torch', '1.0', torch, ['big.pt', 'crafted.pt']);
  });
  after(async () => {
    await browser?.close();
    await t?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('verifies a signed folder picked with model.sig, and the same files by digest lookup', async () => {
    const { page, problems } = await open();
    await page.setInputFiles('#pick-folder', path.join(work, 'sd'));
    await verdict(page).getByText('Verified: these files are acme/sd@1.0 as signed.').waitFor();
    const text = (await verdict(page).textContent()) ?? '';
    assert.match(text, /Ed25519, active/);
    assert.match(text, /Log entry\d+, logged 20/);
    assert.equal(await page.locator('table.files tbody tr').count(), 3);
    if (SCREENSHOT_DIR) {
      mkdirSync(SCREENSHOT_DIR, { recursive: true });
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'console-verify.png'), fullPage: true });
    }

    // Without the bundle: the page finds the release by the files' digests.
    await page.setInputFiles('#pick-files', ['config.json', 'unet/w.safetensors', 'vae.safetensors'].map((f) => path.join(work, 'sd', f)));
    await verdict(page).getByText('Verified: these files are acme/sd@1.0 as signed by acme.').waitFor();
    assert.deepEqual(problems, []);
  });

  it('verifies a single checkpoint with FILE.sig, by digest and dropped, and names what is unchecked when one file of a release is picked', async () => {
    const { page, problems } = await open();
    await page.setInputFiles('#pick-files', [path.join(work, 'one', 'tiny.safetensors'), path.join(work, 'one', 'tiny.safetensors.sig')]);
    await verdict(page).getByText('Verified: these files are acme/tiny@1.0 as signed.').waitFor();
    await page.setInputFiles('#pick-files', path.join(work, 'one', 'tiny.safetensors'));
    await verdict(page).getByText('Verified: these files are acme/tiny@1.0 as signed by acme.').waitFor();
    await page.setInputFiles('#pick-files', path.join(work, 'sd', 'vae.safetensors'));
    await verdict(page).getByText('Verified: these files are acme/sd@1.0 as signed by acme.').waitFor();
    assert.match((await verdict(page).textContent()) ?? '', /Not checked \(not picked\): config\.json, unet\/w\.safetensors/);
    // Dropped (a synthetic drop of the same bytes: Playwright cannot drag from the desktop).
    const bytes = [...readFileSync(path.join(work, 'one', 'tiny.safetensors'))];
    // A string, so this Node-typed file need not know the DOM's DataTransfer.
    const dataTransfer = await page.evaluateHandle(`(() => { const dt = new DataTransfer(); dt.items.add(new File([new Uint8Array(${JSON.stringify(bytes)})], 'tiny.safetensors')); return dt; })()`);
    await page.dispatchEvent('#drop', 'drop', { dataTransfer });
    await verdict(page).getByText('Verified: these files are acme/tiny@1.0 as signed by acme.').waitFor();
    assert.deepEqual(problems, []);
  });

  it('turns red naming a changed, an added and a missing file', async () => {
    const { page, problems } = await open();
    const changed = path.join(work, 'changed');
    cpSync(path.join(work, 'sd'), changed, { recursive: true });
    const bytes = readFileSync(path.join(changed, 'unet', 'w.safetensors'));
    bytes[bytes.length - 1]! ^= 1;
    writeFileSync(path.join(changed, 'unet', 'w.safetensors'), bytes);
    await page.setInputFiles('#pick-folder', changed);
    await verdict(page).getByText('Not verified: these files are not acme/sd@1.0 as signed.').waitFor();
    assert.match((await verdict(page).textContent()) ?? '', /file_changed: unet\/w\.safetensors has SHA-256 [0-9a-f]{64}, signed [0-9a-f]{64}/);

    const added = path.join(work, 'added');
    cpSync(path.join(work, 'sd'), added, { recursive: true });
    writeFileSync(path.join(added, 'notes.txt'), 'hello');
    await page.setInputFiles('#pick-folder', added);
    await verdict(page).getByText(/file_extra: notes\.txt is not part of the signed release/).waitFor();

    const missing = path.join(work, 'missing');
    cpSync(path.join(work, 'sd'), missing, { recursive: true });
    unlinkSync(path.join(missing, 'vae.safetensors'));
    await page.setInputFiles('#pick-folder', missing);
    await verdict(page).getByText(/file_missing: vae\.safetensors is signed but missing/).waitFor();
    // Looked up by digest, the changed folder is still found (by its other files) and still red.
    await page.setInputFiles('#pick-files', ['config.json', 'unet/w.safetensors'].map((f) => path.join(changed, f)));
    await verdict(page).getByText('Not verified: these files are not acme/sd@1.0 as signed.').waitFor();
    assert.deepEqual(problems, []);
  });

  it('shows a signed pickle with a code-capable global as unsafe, naming the global', async () => {
    const { page, problems } = await open();
    await page.setInputFiles('#pick-folder', path.join(work, 'evil'));
    await verdict(page).getByText('Signed, but 1 file can run code when loaded.').waitFor();
    const text = (await verdict(page).textContent()) ?? '';
    assert.match(text, /model\.pt: can run code when loaded \(pickle\).*os\.system/s);
    assert.equal(await verdict(page).getAttribute('class'), 'check bad');
    assert.deepEqual(problems, []);
  });

  it('checks PyTorch archives over 1 MiB from their directory: a state dict passes, the crafted archive is unsafe', async () => {
    const { page, problems } = await open();
    await page.setInputFiles('#pick-folder', path.join(work, 'torch'));
    await verdict(page).getByText('Signed, but 1 file can run code when loaded.').waitFor();
    const text = (await verdict(page).textContent()) ?? '';
    assert.match(text, /crafted\.pt: can run code when loaded.*posix\.system/s);
    assert.doesNotMatch(text, /big\.pt: (can run code|malformed)/);
    assert.deepEqual(problems, []);
  });

  it('answers bad input in words and stays usable', async () => {
    const { page, problems } = await open();
    const bad = path.join(work, 'bad');
    mkdirSync(bad);
    writeFileSync(path.join(bad, 'tiny.safetensors'), safetensors([5, 6]));
    writeFileSync(path.join(bad, 'model.sig'), '{"mediaType":"something else"}');
    await page.setInputFiles('#pick-files', [path.join(bad, 'tiny.safetensors'), path.join(bad, 'model.sig')]);
    await page.getByRole('alert').filter({ hasText: /^model\.sig is not a modelsign bundle: mediaType must be/ }).waitFor();
    writeFileSync(path.join(bad, 'model.sig'), 'not json at all');
    await page.setInputFiles('#pick-files', [path.join(bad, 'tiny.safetensors'), path.join(bad, 'model.sig')]);
    await page.getByRole('alert').filter({ hasText: 'model.sig is not JSON, so it is not a bundle.' }).waitFor();
    // 20 MB of JSON: refused by its size, unread.
    writeFileSync(path.join(bad, 'model.sig'), `[${'0,'.repeat(10_000_000)}0]`);
    await page.setInputFiles('#pick-files', [path.join(bad, 'tiny.safetensors'), path.join(bad, 'model.sig')]);
    await page.getByRole('alert').filter({ hasText: /^model\.sig is 19\.1 MiB: a bundle is at most 8\.0 MiB, so this is not one\. It was not read\.$/ }).waitFor();

    const many = path.join(work, 'many');
    mkdirSync(many);
    for (let i = 0; i <= 10_000; i++) writeFileSync(path.join(many, `${i}.json`), '');
    await page.setInputFiles('#pick-folder', many);
    await page.getByRole('alert').filter({ hasText: /^10001 files were picked; the page checks at most 10,000 at a time/ }).waitFor();
    rmSync(many, { recursive: true });

    // A file changed on disk after it was picked cannot be read (NotReadableError). The workers
    // that read the files are held (their script is not served) until the file has changed, so
    // no read can come first however loaded the machine is (a timing margin flaked in CI).
    const unreadable = path.join(work, 'unreadable');
    mkdirSync(unreadable);
    for (const big of ['a.bin', 'b.bin']) writeFileSync(path.join(unreadable, big), `${big} is not signed`);
    writeFileSync(path.join(unreadable, 'small.json'), '{}');
    let serveWorkers!: () => void;
    const workersHeld = new Promise<void>((resolve) => (serveWorkers = resolve));
    let workerRequests = 0;
    await page.route('**/hash-worker-*.js', async (route) => {
      workerRequests++;
      await workersHeld;
      await route.continue();
    });
    await page.setInputFiles('#pick-folder', unreadable);
    writeFileSync(path.join(unreadable, 'small.json'), '{"changed": true}');
    utimesSync(path.join(unreadable, 'small.json'), new Date(), new Date(Date.now() + 60_000));
    serveWorkers();
    await page.getByRole('alert').filter({ hasText: 'No release signed by this server has these files.' }).waitFor({ timeout: 60_000 });
    assert.match((await page.locator('table.files').textContent()) ?? '', /small\.jsonunreadable—the browser could not read it/);
    assert.match((await page.locator('table.files').textContent()) ?? '', /a\.binnot signed/);
    assert.ok(workerRequests > 0, 'the hashing workers were held until the file changed');
    await page.unroute('**/hash-worker-*.js');

    // Still usable: the signed folder verifies next.
    await page.setInputFiles('#pick-folder', path.join(work, 'sd'));
    await verdict(page).getByText('Verified: these files are acme/sd@1.0 as signed.').waitFor();
    assert.deepEqual(problems, []);
  });

  it('checks against a pasted pinned key, followed along the rotation chain, and refuses a private JWK', async () => {
    const { page, problems } = await open();
    const pem = t.services.keys.list().find((k) => k.purpose === 'release' && k.status === 'active' && k.algorithm === 'Ed25519')!;
    const detail = (await t.app.inject({ url: `/v1/keys/${pem.kid}` })).json() as { jwk: Record<string, string>; pem: string };
    await page.getByText('Which keys to trust').click();
    await page.getByLabel('Pinned key or saved key set').fill(JSON.stringify({ ...detail.jwk, d: 'AAAA' }));
    await page.getByRole('button', { name: 'Trust what I pasted' }).click();
    await page.locator('#trust-said').getByText(/a private JWK is refused/).waitFor();
    await page.getByLabel('Pinned key or saved key set').fill(detail.pem);
    await page.getByRole('button', { name: 'Trust what I pasted' }).click();
    await page.locator('#trust-said').getByText(/^Using pinned key [0-9a-f]{16}… and the keys its rotation chain vouches for: \d+ keys\.$/).waitFor();
    await page.setInputFiles('#pick-folder', path.join(work, 'sd'));
    await verdict(page).getByText('Verified: these files are acme/sd@1.0 as signed.').waitFor();
    assert.match((await verdict(page).textContent()) ?? '', /Checked againstpinned key/);
    assert.deepEqual(problems, []);
  });

  it('shows a bundle logged after its key was compromised as red with key_revoked and both times', async () => {
    const { page, problems } = await open();
    const compromisedAt = new Date();
    await new Promise((r) => setTimeout(r, 1_100));
    const late = path.join(work, 'late');
    mkdirSync(late);
    writeFileSync(path.join(late, 'late.safetensors'), safetensors([7, 8]));
    await signFolder('acme/late', '1.0', late, ['late.safetensors']);
    const kid = JSON.parse(readFileSync(path.join(late, 'model.sig'), 'utf8')).verificationMaterial.publicKey.hint as string;
    const admin = await t.adminToken();
    const revoked = await t.app.inject({ method: 'POST', url: `/v1/admin/keys/${kid}/revoke`, headers: { authorization: `Bearer ${admin}` }, payload: { compromisedAt: compromisedAt.toISOString(), reason: 'test: key leaked' } });
    assert.equal(revoked.statusCode, 200, revoked.body);
    await page.setInputFiles('#pick-folder', late);
    await verdict(page).getByText('Not verified: these files are not acme/late@1.0 as signed.').waitFor();
    const text = (await verdict(page).textContent()) ?? '';
    assert.match(text, new RegExp(`key_revoked: key ${kid} was compromised at ${compromisedAt.toISOString().replace(/\./g, '\\.')}; this signature was logged at 20\\d\\d-`));
    assert.deepEqual(problems, []);
  });

  it('enforces a pasted witness policy: an old bundle verifies with its .tlog-proof picked beside it, and not without', async () => {
    const { page, problems } = await open();
    const vectors = witnessVectors();
    const c = vectors.cases.find((x) => x.name === 'proof-meets-quorum')!;
    // The vectors are dated: the page's clock is set to the case's, as cosignatures from its future are refused.
    await page.clock.setFixedTime(c.now * 1000);
    const lay = (name: string, withProof: boolean) => {
      const dir = path.join(work, name);
      mkdirSync(dir);
      for (const [file, content] of Object.entries(vectors.files)) writeFileSync(path.join(dir, file), content);
      writeFileSync(path.join(dir, 'model.sig'), JSON.stringify(c.bundle));
      if (withProof) writeFileSync(path.join(dir, 'model.sig.tlog-proof'), c.proof!);
      return dir;
    };
    await page.getByText('Which keys to trust').click();
    await page.getByLabel('Pinned key or saved key set').fill(JSON.stringify(vectors.keys));
    await page.getByRole('button', { name: 'Trust what I pasted' }).click();
    await page.locator('#trust-said').getByText(/^Using the pasted key set \(2 keys\)/).waitFor();
    await page.getByText('Which witnesses to require').click();
    await page.getByLabel('Witness policy').fill('quorum nobody\n');
    await page.getByRole('button', { name: 'Require this policy' }).click();
    await page.locator('#witness-said').getByText(/line 1: the quorum "nobody" is not defined/).waitFor();
    await page.getByLabel('Witness policy').fill(c.policy);
    await page.getByRole('button', { name: 'Require this policy' }).click();
    await page.locator('#witness-said').getByText('Requiring quorum main of 3 witnesses.').waitFor();
    await page.setInputFiles('#pick-folder', lay('witnessed', true));
    await verdict(page).getByText('Verified: these files are acme/model@3.0 as signed.').waitFor();
    assert.equal(await page.locator('#witness-fact').textContent(), 'required: quorum main; proof model.sig.tlog-proof');
    await page.setInputFiles('#pick-folder', lay('unwitnessed', false));
    await verdict(page).getByText('Not verified: these files are not acme/model@3.0 as signed.').waitFor();
    assert.match((await verdict(page).textContent()) ?? '', /witness_quorum_not_met: the bundle's checkpoint \(tree size 4\) does not meet the witness policy \(quorum main\); give its \.tlog-proof file/);
    assert.deepEqual(problems, []);
  });
});
