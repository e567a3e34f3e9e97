// RFC 7512 `pkcs11:` URIs, as far as a key backend needs them: which token (by label, optionally
// its serial and manufacturer), which module (`module-path`) and where the PIN is
// (`pin-source=file:`). A PIN in the URI (`pin-value`) is refused: the URI is configuration,
// which ends up in process listings, shell histories and logs. Pure, so config.ts can check it
// at start.

export interface Pkcs11Uri {
  /** CKA token label (`token`). */
  token: string;
  serial?: string;
  manufacturer?: string;
  /** `module-path`: an absolute path to the module. */
  modulePath?: string;
  /** `pin-source`: an absolute path to a file holding the user PIN. */
  pinFile?: string;
}

export class Pkcs11UriError extends Error {
  override readonly name = 'Pkcs11UriError';
}

const PATH_ATTRIBUTES = new Set(['token', 'manufacturer', 'serial', 'model', 'library-manufacturer', 'library-description', 'library-version', 'slot-description', 'slot-manufacturer', 'slot-id', 'object', 'id', 'type']);
const QUERY_ATTRIBUTES = new Set(['pin-source', 'pin-value', 'module-name', 'module-path']);
// Attributes that would select something else than a token: keys are the service's to choose.
const NOT_HERE = new Set(['object', 'id', 'type', 'slot-id', 'module-name']);

function decode(value: string, name: string): string {
  // RFC 7512 §2.3: percent-encoding; a stray '%' is an error, not a literal.
  if (/%(?![0-9a-fA-F]{2})/.test(value)) throw new Pkcs11UriError(`the ${name} attribute has a malformed percent-encoding`);
  return decodeURIComponent(value);
}

function attributes(part: string, separator: string, allowed: Set<string>, where: string): Map<string, string> {
  const found = new Map<string, string>();
  if (part === '') return found;
  for (const item of part.split(separator)) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new Pkcs11UriError(`"${item}" in the ${where} is not name=value`);
    const name = item.slice(0, eq).toLowerCase();
    if (!allowed.has(name) && !name.startsWith('x-')) throw new Pkcs11UriError(`unknown ${where} attribute "${name}"`);
    if (found.has(name)) throw new Pkcs11UriError(`the ${name} attribute appears twice`);
    found.set(name, decode(item.slice(eq + 1), name));
  }
  return found;
}

/** Parses a token URI; throws Pkcs11UriError naming what is wrong (never echoing a PIN). */
export function parsePkcs11Uri(uri: string): Pkcs11Uri {
  if (!/^pkcs11:/i.test(uri)) throw new Pkcs11UriError('a PKCS#11 URI starts with "pkcs11:" (RFC 7512), e.g. pkcs11:token=modelsign?pin-source=file:/run/secrets/hsm-pin');
  const rest = uri.slice('pkcs11:'.length);
  const q = rest.indexOf('?');
  const path = attributes(q < 0 ? rest : rest.slice(0, q), ';', PATH_ATTRIBUTES, 'path');
  const query = attributes(q < 0 ? '' : rest.slice(q + 1), '&', QUERY_ATTRIBUTES, 'query');
  if (query.has('pin-value')) throw new Pkcs11UriError('pin-value is refused: put the PIN in a file and name it with pin-source=file:/path or MODELSIGN_PKCS11_PIN_FILE');
  for (const name of NOT_HERE) {
    if (path.has(name) || query.has(name)) throw new Pkcs11UriError(`the ${name} attribute is not used here: the URI selects a token (token=LABEL), and the service chooses its keys`);
  }
  const token = path.get('token');
  if (!token) throw new Pkcs11UriError('the URI must name the token by its label (token=LABEL): slot numbers change when a token is initialised');
  const result: Pkcs11Uri = { token };
  if (path.has('serial')) result.serial = path.get('serial')!;
  if (path.has('manufacturer')) result.manufacturer = path.get('manufacturer')!;
  const modulePath = query.get('module-path');
  if (modulePath !== undefined) {
    if (!modulePath.startsWith('/')) throw new Pkcs11UriError('module-path must be an absolute path');
    result.modulePath = modulePath;
  }
  const pinSource = query.get('pin-source');
  if (pinSource !== undefined) {
    const file = pinSource.startsWith('file:') ? pinSource.slice('file:'.length) : pinSource;
    if (!file.startsWith('/')) throw new Pkcs11UriError('pin-source must be file:/absolute/path (or an absolute path)');
    result.pinFile = file;
  }
  return result;
}
