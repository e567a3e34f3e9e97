// One table from error code to HTTP status and exit code (core's ERRORS): every code's exit code
// is the same whether the failure happened in the command's own process (a ModelsignError) or
// came back over HTTP (a problem+json answer), the outcome follows the status where the status
// says it (401/403: the credential; 5xx: the service, but for a KEK that does not open the keys,
// which is configuration), and the codes that used to disagree between the two paths agree.
// Tier: quick
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXIT, exitCodeOf } from '../../src/cli/exit-codes.ts';
import { failureOf } from '../../src/cli/http.ts';
import { ERRORS, type ErrorCode } from '../../src/core/errors.ts';

const codes = Object.keys(ERRORS) as ErrorCode[];

describe('exit codes of coded failures', () => {
  it('gives every code the exit code of its outcome, in-process and over HTTP alike', () => {
    assert.ok(codes.length >= 50, `${codes.length} codes`);
    for (const code of codes) {
      const { status, outcome } = ERRORS[code];
      assert.equal(exitCodeOf(code), EXIT[outcome], code);
      assert.equal(failureOf(status, { code, detail: 'x' }, 'POST /v1/x').exitCode, exitCodeOf(code), `${code} over HTTP (${status})`);
    }
  });

  it('follows the status where it speaks: 401 and 403 are the credential, 5xx the service (a KEK that opens nothing is configuration)', () => {
    for (const code of codes) {
      const { status, outcome } = ERRORS[code];
      if (status === 401 || status === 403) assert.equal(outcome, 'auth', code);
      if (status >= 500) assert.equal(outcome, code === 'kek_mismatch' ? 'usage' : 'service', code);
    }
  });

  it('settles the codes that exited differently in-process and over HTTP', () => {
    const settled: [ErrorCode, number][] = [
      ['key_backend_unavailable', EXIT.service],
      ['database_busy', EXIT.service],
      ['database_read_only', EXIT.service],
      ['oidc_token_reused', EXIT.auth],
      ['kek_mismatch', EXIT.usage],
      ['invalid_duration', EXIT.usage],
      ['forbidden_namespace', EXIT.auth],
    ];
    for (const [code, exit] of settled) {
      assert.equal(exitCodeOf(code), exit, code);
      assert.equal(failureOf(ERRORS[code].status, { code }, 'x').exitCode, exit, `${code} over HTTP`);
    }
  });

  it('exits by status for an answer without a known code (a proxy page, a newer service)', () => {
    assert.equal(exitCodeOf('a_code_from_a_newer_service'), EXIT.refused);
    assert.equal(failureOf(401, { code: 'a_newer_token_code' }, 'x').exitCode, EXIT.auth);
    assert.equal(failureOf(502, '<html>Bad gateway</html>', 'x').exitCode, EXIT.service);
    assert.equal(failureOf(404, {}, 'x').exitCode, EXIT.service);
    assert.equal(failureOf(422, { code: 'something_new' }, 'x').exitCode, EXIT.refused);
  });
});
