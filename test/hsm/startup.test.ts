// Start-up with the PKCS#11 backend misconfigured stops at once with one clear line and a
// non-zero exit: a wrong PIN, a missing module, an unknown token label, missing mechanisms, a PIN
// in the URI or the environment, a PIN from two places. Mechanisms are checked only for the key
// slots the token holds. `modelsign serve` is started as users start it.
// Runs once: its subject is the start-up of the service process, before any database is opened.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCliAsync, startService } from '../support/process.ts';
import { SOFTHSM_MODULE, softHsm, softHsmSkip, TOKEN_LABEL } from '../support/softhsm.ts';

const skip = softHsmSkip();

describe('start-up with the PKCS#11 backend', { skip }, () => {
  let dir: string;
  let env: Record<string, string>;
  before(() => {
    const hsm = softHsm();
    dir = mkdtempSync(path.join(os.tmpdir(), 'modelsign-hsm-start-'));
    writeFileSync(path.join(dir, 'wrong-pin'), '999999\n');
    env = {
      MODELSIGN_DATA_DIR: path.join(dir, 'data'),
      MODELSIGN_KEY_BACKEND: 'pkcs11',
      MODELSIGN_PKCS11_URI: `pkcs11:token=${TOKEN_LABEL}`,
      MODELSIGN_PKCS11_MODULE: SOFTHSM_MODULE,
      MODELSIGN_PKCS11_PIN_FILE: hsm.pinFile,
      SOFTHSM2_CONF: process.env.SOFTHSM2_CONF!,
      LOG_LEVEL: 'info',
    };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const refusals: [string, () => Record<string, string | undefined>, RegExp][] = [
    ['a wrong PIN', () => ({ MODELSIGN_PKCS11_PIN_FILE: path.join(dir, 'wrong-pin') }), /the PIN in .*wrong-pin is not accepted by the PKCS#11 token "modelsign-test" \(CKR_PIN_INCORRECT\)/],
    ['a missing module', () => ({ MODELSIGN_PKCS11_MODULE: '/usr/lib/no-such-pkcs11.so' }), /MODELSIGN_PKCS11_MODULE: cannot load \/usr\/lib\/no-such-pkcs11\.so as a PKCS#11 module/],
    ['an unknown token label', () => ({ MODELSIGN_PKCS11_URI: 'pkcs11:token=nobody' }), /no token labelled "nobody" in .*libsofthsm2\.so \(tokens: "modelsign-test"/],
    [
      'a token without EdDSA',
      () => ({ SOFTHSM2_CONF: softHsm().confWith('slots.mechanisms = -CKM_EDDSA,CKM_EC_EDWARDS_KEY_PAIR_GEN\n') }),
      /the PKCS#11 token "modelsign-test" lacks CKM_EC_EDWARDS_KEY_PAIR_GEN \(for release \(Ed25519\), log, token keys\).*; keep those keys KEK-wrapped with MODELSIGN_PKCS11_PURPOSES/,
    ],
    ['a PIN in the URI', () => ({ MODELSIGN_PKCS11_URI: `pkcs11:token=${TOKEN_LABEL}?pin-value=246810` }), /MODELSIGN_PKCS11_URI: pin-value is refused: put the PIN in a file/],
    ['a PIN in the environment', () => ({ MODELSIGN_PKCS11_PIN: '246810' }), /MODELSIGN_PKCS11_PIN is refused: a PIN in the environment/],
    ['a PIN from two places', () => ({ MODELSIGN_PKCS11_URI: `pkcs11:token=${TOKEN_LABEL}?pin-source=file:/run/pin` }), /the PIN comes from MODELSIGN_PKCS11_PIN_FILE or the URI's pin-source, not both/],
    ['no module at all', () => ({ MODELSIGN_PKCS11_MODULE: undefined }), /needs the module: set MODELSIGN_PKCS11_MODULE/],
  ];

  for (const [name, change, message] of refusals) {
    it(`refuses ${name}: one line, non-zero exit`, async () => {
      const merged = Object.fromEntries(Object.entries({ ...env, ...change() }).filter(([, v]) => v !== undefined)) as Record<string, string>;
      const started = performance.now();
      const r = await runCliAsync(['serve'], merged);
      assert.notEqual(r.status, 0);
      assert.ok(performance.now() - started < 15_000, 'fails at once');
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, message);
      assert.doesNotMatch(r.stderr + r.stdout, /246810/, 'the PIN is never echoed');
    });
  }

  it('checks mechanisms only for the slots in the token: without EdDSA, the ECDSA release keys live in the token and the rest stay KEK-wrapped', async () => {
    const service = await startService({ ...env, MODELSIGN_PKCS11_PURPOSES: 'release:ecdsa-p256', SOFTHSM2_CONF: softHsm().confWith('slots.mechanisms = -CKM_EDDSA,CKM_EC_EDWARDS_KEY_PAIR_GEN\n') }, 60_000);
    try {
      const keys = (await (await fetch(`${service.base}/v1/keys`)).json()) as { keys: { purpose: string; alg: string }[] };
      assert.equal(keys.keys.length, 4);
      const ready = (await (await fetch(`${service.base}/readyz`)).json()) as { signing: boolean };
      assert.equal(ready.signing, true);
      assert.match(service.output(), /"slots":\["release \(ECDSA P-256\)"\],"msg":"new keys of these slots are made in the PKCS#11 token"/);
    } finally {
      await service.stop('SIGTERM');
    }
  });
});
