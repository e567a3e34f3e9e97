// The test model of the client tests (a folder with nested folders and unicode names, and a
// single-file checkpoint), and the tamper cases of issue #5, each applied to a copy of the folder
// and returning the name of the file a verifier must report.
import { mkdirSync, readFileSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export function writeTestModel(folder: string, single: string): void {
  mkdirSync(path.join(folder, 'tokenizer', 'vocab'), { recursive: true });
  writeFileSync(path.join(folder, 'model.safetensors'), Buffer.alloc(3_000_000, 7));
  writeFileSync(path.join(folder, 'config.json'), '{"layers": 32}\n');
  writeFileSync(path.join(folder, 'tokenizer', 'tökenizer.json'), '{"ü": 1}\n');
  writeFileSync(path.join(folder, 'tokenizer', 'vocab', '語彙.txt'), 'a\nb\n');
  writeFileSync(single, Buffer.alloc(1_000_000, 3));
}

export const TAMPERS: [string, (root: string) => string][] = [
  ['one byte of a file changed', (root) => {
    const p = path.join(root, 'config.json');
    const b = readFileSync(p);
    b[3] = b[3]! ^ 1;
    writeFileSync(p, b);
    return 'config.json';
  }],
  ['a file added', (root) => (writeFileSync(path.join(root, 'tokenizer', 'evil.py'), 'import os\n'), 'tokenizer/evil.py')],
  ['a file deleted', (root) => (unlinkSync(path.join(root, 'tokenizer', 'vocab', '語彙.txt')), 'tokenizer/vocab/語彙.txt')],
  ['a file renamed', (root) => (renameSync(path.join(root, 'config.json'), path.join(root, 'config.json.bak')), 'config.json')],
  ['two files\' contents swapped', (root) => {
    const a = path.join(root, 'config.json');
    const b = path.join(root, 'tokenizer', 'tökenizer.json');
    const [x, y] = [readFileSync(a), readFileSync(b)];
    writeFileSync(a, y);
    writeFileSync(b, x);
    return 'config.json';
  }],
  ['a file replaced by a symlink to another file', (root) => {
    unlinkSync(path.join(root, 'config.json'));
    symlinkSync('tokenizer/tökenizer.json', path.join(root, 'config.json'));
    return 'config.json';
  }],
  ['a symlink pointing outside the folder', (root) => (symlinkSync('/etc/hostname', path.join(root, 'extra.json')), 'extra.json')],
];
