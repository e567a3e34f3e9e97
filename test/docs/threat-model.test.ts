// `docs/THREAT-MODEL.md` has a row for every threat of the malicious-model-
// substitution analysis, each naming a control and at least one test file, and every file it
// names exists (so a renamed or deleted test breaks this test, not the document's truth).
// Tier: quick
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const doc = readFileSync('docs/THREAT-MODEL.md', 'utf8');
const rows = doc
  .split('\n')
  .filter((l) => /^\| T\d+ \|/.test(l))
  .map((l) => l.split(' | ').map((c) => c.replace(/^\| |\s\|$/g, '').trim()));

const THREATS = [/file-system write access/i, /crafted models/i, /parsing exploits/i, /path traversal/i, /unverified loads/i, /tampered checksum stores/i, /key theft/i, /insider signing/i, /rollback to an old vulnerable release/i];

describe('docs/THREAT-MODEL.md', () => {
  it('has a row, with a control and tests, for every threat of the analysis', () => {
    for (const threat of THREATS) {
      const row = rows.find((r) => threat.test(r[1]!));
      assert.ok(row, `a row for ${threat}`);
      assert.ok(row[2]!.length > 40, `${threat}: a control is described`);
      assert.ok(/`test\/[^`]+\.test\.ts`/.test(row[3]!), `${threat}: names a test file`);
    }
  });

  it('names only test files that exist', () => {
    const named = [...doc.matchAll(/`(test\/[^`]+\.test\.ts)`/g)].map((m) => m[1]!);
    assert.ok(named.length >= 20);
    for (const file of new Set(named)) assert.ok(existsSync(file), `${file} exists`);
  });

  it('says what modelsign does not protect against', () => {
    const section = doc.split('## What modelsign does not protect against')[1];
    assert.ok(section && section.split('\n- ').length >= 6);
  });
});
