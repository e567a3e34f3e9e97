// Private keys at rest: AES-256-GCM under the key-encryption key (KEK), with the kid as
// additional authenticated data so a ciphertext cannot be moved onto another key's row.
// Layout: 0x01 (format version) || 12-byte nonce || ciphertext || 16-byte tag.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ModelsignError } from '../../core/errors.ts';

const FORMAT = 0x01;
const NONCE = 12;
const TAG = 16;

export interface Kek {
  /** A fingerprint that names the KEK in the database; it reveals nothing about the key. */
  id: string;
  key: Buffer;
}

export class KekError extends Error {
  override readonly name = 'KekError';
}

export function parseKek(text: string, source: string): Kek {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32 || (!/^[0-9a-fA-F]{64}$/.test(trimmed) && key.toString('base64') !== trimmed)) {
    throw new KekError(`${source} must be 32 bytes in base64 or hex (e.g. \`openssl rand -base64 32\`)`);
  }
  return { key, id: createHash('sha256').update('modelsign kek id\0').update(key).digest('hex').slice(0, 16) };
}

export interface KekSource {
  kek?: string | undefined;
  kekFile?: string | undefined;
  /** Embedded mode only: where to create a KEK file when none is configured. */
  dataDir?: string | undefined;
}

/** The KEK from the environment or a file; in embedded mode a missing one is created (0600). */
export function loadKek(source: KekSource, warn: (message: string) => void): Kek {
  if (source.kek) return parseKek(source.kek, 'MODELSIGN_KEK');
  if (source.kekFile) return parseKek(readFileSync(source.kekFile, 'utf8'), `MODELSIGN_KEK_FILE (${source.kekFile})`);
  if (!source.dataDir) throw new KekError('MODELSIGN_KEK or MODELSIGN_KEK_FILE is required');
  const file = path.join(source.dataDir, 'kek');
  if (!existsSync(file)) {
    mkdirSync(source.dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    warn(`created a KEK in ${file} (mode 0600). It encrypts every private key: back it up with the database, or set MODELSIGN_KEK_FILE in production.`);
  } else if ((statSync(file).mode & 0o077) !== 0) {
    chmodSync(file, 0o600);
    warn(`${file} was readable by others; its mode is now 0600`);
  }
  return parseKek(readFileSync(file, 'utf8'), file);
}

/** Encrypts a private key's material for the row of `kid`. */
export function wrapKey(kek: Kek, kid: string, material: Uint8Array): Uint8Array {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv('aes-256-gcm', kek.key, nonce);
  cipher.setAAD(Buffer.from(kid, 'utf8'));
  const ct = Buffer.concat([cipher.update(material), cipher.final()]);
  return new Uint8Array(Buffer.concat([Buffer.from([FORMAT]), nonce, ct, cipher.getAuthTag()]));
}

/** The material `wrapKey` encrypted; throws kek_mismatch for another KEK, kid or a damaged blob. */
export function unwrapKey(kek: Kek, kid: string, blob: Uint8Array): Uint8Array {
  const buf = Buffer.from(blob);
  if (buf.length < 1 + NONCE + TAG || buf[0] !== FORMAT) {
    throw new ModelsignError('kek_mismatch', `the stored private key of ${kid} is not in a known format`);
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek.key, buf.subarray(1, 1 + NONCE));
    decipher.setAAD(Buffer.from(kid, 'utf8'));
    decipher.setAuthTag(buf.subarray(buf.length - TAG));
    return new Uint8Array(Buffer.concat([decipher.update(buf.subarray(1 + NONCE, buf.length - TAG)), decipher.final()]));
  } catch {
    throw new ModelsignError('kek_mismatch', `the configured KEK does not decrypt the private key of ${kid}; is MODELSIGN_KEK the one the keys were created with?`);
  }
}
