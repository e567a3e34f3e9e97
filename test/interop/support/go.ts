// Go programs of the interop tests, built with Debian's Go and golang.org/x/mod in GOPATH mode
// (no module proxy here). Tests skip, saying why, where Go or x/mod is missing, unless
// MODELSIGN_TEST_REQUIRE_GO=1 (.ci/run), where they fail instead.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const XMOD = '/usr/share/gocode/src/golang.org/x/mod/sumdb';
const hasGo = spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0 && existsSync(XMOD);

export const goSkip: string | false = hasGo || process.env.MODELSIGN_TEST_REQUIRE_GO === '1' ? false : 'Go and golang-golang-x-mod-dev are not installed (.ci/run installs them)';

/** Builds test/interop/NAME/main.go; returns the binary and a cleanup. */
export function buildGo(name: string): { bin: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), `modelsign-${name}-`));
  const src = path.join(dir, 'src', name);
  mkdirSync(src, { recursive: true });
  copyFileSync(new URL(`../${name}/main.go`, import.meta.url), path.join(src, 'main.go'));
  const bin = path.join(dir, name);
  const built = spawnSync('go', ['build', '-o', bin, '.'], { cwd: src, encoding: 'utf8', env: { ...process.env, GO111MODULE: 'off', GOPATH: `${dir}:/usr/share/gocode`, GOCACHE: path.join(dir, 'cache'), GOFLAGS: '' } });
  assert.equal(built.status, 0, built.stderr);
  return { bin, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
