// Names of releases. Namespaces are lowercase only: `Acme` and `acme` would otherwise be two
// owners of look-alike model names, the raw material of an impersonation.
import { ModelsignError } from './errors.ts';
import { escapeName, nonAsciiCharacter } from './unicode.ts';

export const NAMESPACE_PATTERN = '^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$';
/** NAMESPACE_PATTERN in words, for messages (publisher names follow the same rule). */
export const NAME_RULE = 'lowercase [a-z0-9._-], 1 to 64 characters, starting and ending with a letter or digit';
export const MODEL_NAME_PATTERN = '^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,126}[A-Za-z0-9])?$';
export const PUBLISHER_NAME_PATTERN = NAMESPACE_PATTERN;
export const VERSION_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$';

const NAMESPACE = new RegExp(NAMESPACE_PATTERN);
const NAME = new RegExp(MODEL_NAME_PATTERN);
const VERSION = new RegExp(VERSION_PATTERN);

/**
 * ` (U+202E is not allowed)` for a name holding a character outside printable ASCII (the names
 * are ASCII-only, so an invisible or look-alike character is named rather than left unseen).
 */
export function offendingCharacter(value: unknown): string {
  const label = typeof value === 'string' ? nonAsciiCharacter(value) : undefined;
  return label ? ` (${label} is not allowed)` : '';
}

/** A name as an error message shows it: quoted, invisible characters escaped. */
export function shownName(value: unknown): string {
  return typeof value === 'string' ? escapeName(value) : JSON.stringify(value) ?? String(value);
}

export interface ModelName {
  namespace: string;
  name: string;
}

export function isNamespace(value: unknown): value is string {
  return typeof value === 'string' && NAMESPACE.test(value);
}

export function isVersion(value: unknown): value is string {
  return typeof value === 'string' && VERSION.test(value);
}

/** `namespace/name` split and checked, or undefined. */
export function parseModelName(model: unknown): ModelName | undefined {
  if (typeof model !== 'string') return undefined;
  const slash = model.indexOf('/');
  if (slash < 0) return undefined;
  const namespace = model.slice(0, slash);
  const name = model.slice(slash + 1);
  return NAMESPACE.test(namespace) && NAME.test(name) ? { namespace, name } : undefined;
}

export function assertModelName(model: unknown): ModelName {
  const parsed = parseModelName(model);
  if (!parsed) {
    throw new ModelsignError(
      'invalid_model_name',
      `model ${shownName(model)} must be "namespace/name": a lowercase namespace ([a-z0-9._-], up to 64) and a name ([A-Za-z0-9._-], up to 128), each starting and ending with a letter or digit${offendingCharacter(model)}`,
    );
  }
  return parsed;
}

export function assertVersion(version: unknown): string {
  if (!isVersion(version)) {
    throw new ModelsignError(
      'invalid_version',
      `version ${shownName(version)} must start with a letter or digit and use only [A-Za-z0-9._+-], up to 128 characters${offendingCharacter(version)}`,
    );
  }
  return version;
}

/** The in-toto subject name of a release: `namespace/name@version`. */
export function subjectName(model: string, version: string): string {
  return `${model}@${version}`;
}

export function parseSubjectName(subject: unknown): { model: string; version: string } | undefined {
  if (typeof subject !== 'string') return undefined;
  const at = subject.lastIndexOf('@');
  if (at < 0) return undefined;
  const model = subject.slice(0, at);
  const version = subject.slice(at + 1);
  return parseModelName(model) && isVersion(version) ? { model, version } : undefined;
}
