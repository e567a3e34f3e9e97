// RFC 7512 token URIs as MODELSIGN_PKCS11_URI takes them: a token by label (percent-decoded),
// optionally its serial and manufacturer, the module path and a PIN file; a PIN value, a key or a
// slot in the URI, relative paths and malformed encodings are refused with a reason.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePkcs11Uri, Pkcs11UriError } from '../../src/core/pkcs11-uri.ts';

describe('PKCS#11 URIs', () => {
  it('reads the token, serial, manufacturer, module path and PIN file', () => {
    assert.deepEqual(parsePkcs11Uri('pkcs11:token=modelsign'), { token: 'modelsign' });
    assert.deepEqual(parsePkcs11Uri('pkcs11:token=My%20Token;serial=2f4991e6;manufacturer=SoftHSM%20project?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/secrets/hsm-pin'), {
      token: 'My Token',
      serial: '2f4991e6',
      manufacturer: 'SoftHSM project',
      modulePath: '/usr/lib/softhsm/libsofthsm2.so',
      pinFile: '/run/secrets/hsm-pin',
    });
    assert.equal(parsePkcs11Uri('PKCS11:token=a?pin-source=/run/pin').pinFile, '/run/pin', 'a bare absolute path is a pin-source too');
    assert.deepEqual(parsePkcs11Uri('pkcs11:token=a;x-vendor=1'), { token: 'a' }, 'vendor attributes are ignored');
  });

  const refused: [string, RegExp][] = [
    ['token=modelsign', /starts with "pkcs11:"/],
    ['pkcs11:', /must name the token by its label/],
    ['pkcs11:serial=1', /must name the token by its label/],
    ['pkcs11:token=a?pin-value=1234', /pin-value is refused/],
    ['pkcs11:token=a;object=k1', /object attribute is not used here/],
    ['pkcs11:token=a;id=%01', /id attribute is not used here/],
    ['pkcs11:token=a;slot-id=3', /slot-id attribute is not used here/],
    ['pkcs11:token=a;token=b', /appears twice/],
    ['pkcs11:token=a;colour=red', /unknown path attribute "colour"/],
    ['pkcs11:token=a?module-path=lib.so', /module-path must be an absolute path/],
    ['pkcs11:token=a?pin-source=file:pin', /pin-source must be file:\/absolute\/path/],
    ['pkcs11:token=a%2', /malformed percent-encoding/],
    ['pkcs11:token', /is not name=value/],
  ];
  for (const [uri, reason] of refused) {
    it(`refuses ${uri}`, () => {
      assert.throws(() => parsePkcs11Uri(uri), (err: unknown) => err instanceof Pkcs11UriError && reason.test(err.message));
    });
  }

  it('never echoes a PIN value in its refusal', () => {
    assert.throws(() => parsePkcs11Uri('pkcs11:token=a?pin-value=secret-246810'), (err: Error) => !err.message.includes('secret-246810'));
  });
});
