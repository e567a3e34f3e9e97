// The hashing path every client command reads through: the main thread and the workers share
// the files, so every digest, size and progress byte must come out exactly once whatever the
// number of files, their sizes (empty, under, at and over the 1 MiB read buffer) and the order
// they finish in; a file that cannot be read fails the whole call with its path.
// Tier: quick
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { HashError, hashFiles } from '../../src/cli/hash-files.ts';
import type { ModelFile } from '../../src/cli/model-files.ts';

const MiB = 1024 * 1024;

describe('hashFiles', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'modelsign-hash-files-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  function write(name: string, bytes: Buffer): ModelFile & { expected: string } {
    const abs = path.join(dir, name);
    writeFileSync(abs, bytes);
    return { path: name, abs, size: bytes.length, expected: createHash('sha256').update(bytes).digest('hex') };
  }

  it('hashes one file on the main thread: digest, size and progress equal to the bytes', async () => {
    const f = write('one.bin', randomBytes(3 * MiB + 17));
    let progress = 0;
    const [r] = await hashFiles([f], (n) => (progress += n));
    assert.deepEqual(r, { path: 'one.bin', sha256: f.expected, size: f.size });
    assert.equal(progress, f.size);
  });

  it('hashes many files of mixed sizes in their given order, each once', async () => {
    const sizes = [0, 1, MiB - 1, MiB, MiB + 1, 5 * MiB + 3, 64, 2 * MiB, 0, 777];
    const files = sizes.map((n, i) => write(`f${i}.bin`, randomBytes(n)));
    let progress = 0;
    const results = await hashFiles(files, (n) => (progress += n));
    assert.deepEqual(
      results,
      files.map((f) => ({ path: f.path, sha256: f.expected, size: f.size })),
    );
    assert.equal(progress, sizes.reduce((a, b) => a + b, 0));
  });

  it('fails with the path of a file removed after listing, among others that can be read', async () => {
    const files = [write('ok-a.bin', randomBytes(2 * MiB)), write('gone.bin', randomBytes(10)), write('ok-b.bin', randomBytes(100))];
    rmSync(files[1]!.abs);
    await assert.rejects(hashFiles(files), (err: unknown) => err instanceof HashError && /cannot read gone\.bin: ENOENT/.test(err.message));
  });

  it('refuses an unreadable file however many workers share the list', async () => {
    const files = Array.from({ length: 6 }, (_, i) => write(`w${i}.bin`, randomBytes(MiB + i)));
    const blocked = write('blocked.bin', randomBytes(10));
    // root reads a mode-000 file, so there the file is removed instead.
    if (process.getuid?.() !== 0) chmodSync(blocked.abs, 0o000);
    else rmSync(blocked.abs);
    await assert.rejects(hashFiles([...files, blocked]), (err: unknown) => err instanceof HashError && /cannot read blocked\.bin: E(ACCES|NOENT)/.test(err.message));
  });
});
