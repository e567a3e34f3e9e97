// Trusted-publisher rules: which ID tokens of one OIDC issuer may act for a publisher. A rule is
// data (stored as JSON in trusted_publishers.conditions), checked here when an admin writes it,
// and matched against verified claims in match.ts. Everything is denied unless a rule allows it.
import { ModelsignError } from '../errors.ts';
import { isObject } from '../guards.ts';

export const ISSUER_KINDS = ['github', 'gitlab', 'generic'] as const;
export type IssuerKind = (typeof ISSUER_KINDS)[number];

export function isIssuerKind(value: unknown): value is IssuerKind {
  return (ISSUER_KINDS as readonly unknown[]).includes(value);
}

export interface GithubRule {
  kind: 'github';
  /** `owner/name`, compared case-insensitively (GitHub names are). */
  repository: string;
  /** The owner's immutable id: a deleted and re-registered owner name has another. */
  repositoryOwnerId: string;
  /** The repository's immutable id; null until the first exchange pins it. */
  repositoryId: string | null;
  /** The top-level workflow's file name under .github/workflows (from `workflow_ref`). */
  workflow: string;
  /** A reusable workflow the job must run, exactly as in `job_workflow_ref` (`owner/repo/.github/workflows/f.yml@ref`). */
  jobWorkflowRef: string | null;
  /** The deployment environment, compared case-insensitively (GitHub's are); null: any or none. */
  environment: string | null;
  /** Patterns the `ref` must match (one of); empty: any ref. */
  refs: string[];
  /** Self-hosted runners are refused unless this is set. */
  allowSelfHosted: boolean;
}

export interface GitlabRule {
  kind: 'gitlab';
  /** `group/sub/project`, compared case-insensitively. */
  projectPath: string;
  /** Immutable ids; null until the first exchange pins them. */
  namespaceId: string | null;
  projectId: string | null;
  /** The top-level pipeline file in the project, from `ci_config_ref_uri` (e.g. `.gitlab-ci.yml`). */
  ciConfigPath: string;
  /** Compared exactly (GitLab environment names are case-sensitive); null: any or none. */
  environment: string | null;
  /** Patterns the `ref_path` must match (one of); empty: any ref. */
  refs: string[];
  /** Only pipelines on protected branches or tags (`ref_protected`), unless set false. */
  requireProtectedRef: boolean;
  allowSelfHosted: boolean;
}

export const CONDITION_OPS = ['equals', 'equals_ci', 'glob', 'in'] as const;
export type ConditionOp = (typeof CONDITION_OPS)[number];

export interface ClaimCondition {
  claim: string;
  op: ConditionOp;
  value: string | string[];
}

export interface GenericRule {
  kind: 'generic';
  /** All must hold. The first is the rule's anchor: a token meeting it is told which later one failed. */
  conditions: ClaimCondition[];
}

export type TrustedPublisherRule = GithubRule | GitlabRule | GenericRule;

const fail = (message: string) => new ModelsignError('invalid_trusted_publisher', message);

const DIGITS = /^[1-9][0-9]{0,19}$/;
const REPOSITORY = /^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/;
const WORKFLOW_FILE = /^[A-Za-z0-9_.-]{1,200}\.ya?ml$/;
const JOB_WORKFLOW_REF = /^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}\/\.github\/workflows\/[A-Za-z0-9_.-]{1,200}\.ya?ml@\S{1,255}$/;
const PROJECT_PATH = /^[A-Za-z0-9_.-]{1,255}(\/[A-Za-z0-9_.-]{1,255}){1,20}$/;
const CONFIG_PATH = /^[A-Za-z0-9_.][A-Za-z0-9_./-]{0,254}\.ya?ml$/;
const PRINTABLE = /^[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?$/;
const CLAIM = /^[A-Za-z_][A-Za-z0-9_.-]{0,99}$/;
// Claims that say nothing about who is running: a rule of only these would let anyone with a token
// from the issuer in (OpenSSF's guidance: never rely on sub, aud, iss alone).
const WEAK_CLAIMS = new Set(['sub', 'aud', 'iss', 'azp', 'iat', 'exp', 'nbf', 'jti']);

function text(input: Record<string, unknown>, field: string, pattern: RegExp, what: string): string {
  const value = input[field];
  if (typeof value !== 'string' || !pattern.test(value)) throw fail(`\`${field}\` must be ${what}`);
  return value;
}

function optional<T>(input: Record<string, unknown>, field: string, read: () => T): T | null {
  return input[field] === undefined || input[field] === null || input[field] === '' ? null : read();
}

function refsOf(input: Record<string, unknown>): string[] {
  const refs = input.refs ?? [];
  if (!Array.isArray(refs) || refs.length > 20 || refs.some((r) => typeof r !== 'string' || !/^refs\/[\x21-\x7e]{1,250}$/.test(r))) {
    throw fail('`refs` must be at most 20 patterns such as refs/tags/v* or refs/heads/main (`*` matches within one path segment, `**` across)');
  }
  return refs as string[];
}

function flag(input: Record<string, unknown>, field: string, fallback: boolean): boolean {
  const value = input[field];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw fail(`\`${field}\` must be true or false`);
  return value;
}

function allowedFields(input: Record<string, unknown>, fields: string[], kind: string): void {
  const extra = Object.keys(input).filter((k) => !fields.includes(k));
  if (extra.length > 0) throw fail(`a ${kind} rule has no field ${extra.map((k) => `\`${k}\``).join(', ')}; it takes ${fields.join(', ')}`);
}

/** Checks a rule as an admin wrote it for an issuer of `kind`, and returns it complete; throws invalid_trusted_publisher. */
export function parseRule(kind: IssuerKind, input: unknown): TrustedPublisherRule {
  if (!isObject(input)) throw fail(`a ${kind} rule is a JSON object`);
  if (kind === 'github') {
    allowedFields(input, ['repository', 'repositoryOwnerId', 'repositoryId', 'workflow', 'jobWorkflowRef', 'environment', 'refs', 'allowSelfHosted'], kind);
    return {
      kind,
      repository: text(input, 'repository', REPOSITORY, 'the repository as owner/name'),
      repositoryOwnerId: text(input, 'repositoryOwnerId', DIGITS, 'the owner\'s numeric id (GitHub API: GET /users/OWNER → id), as a string'),
      repositoryId: optional(input, 'repositoryId', () => text(input, 'repositoryId', DIGITS, 'the repository\'s numeric id as a string, or left out to pin it on the first exchange')),
      workflow: text(input, 'workflow', WORKFLOW_FILE, 'the workflow file name, e.g. release.yml'),
      jobWorkflowRef: optional(input, 'jobWorkflowRef', () => text(input, 'jobWorkflowRef', JOB_WORKFLOW_REF, 'owner/repo/.github/workflows/FILE.yml@REF')),
      environment: optional(input, 'environment', () => text(input, 'environment', PRINTABLE, 'an environment name')),
      refs: refsOf(input),
      allowSelfHosted: flag(input, 'allowSelfHosted', false),
    };
  }
  if (kind === 'gitlab') {
    allowedFields(input, ['projectPath', 'namespaceId', 'projectId', 'ciConfigPath', 'environment', 'refs', 'requireProtectedRef', 'allowSelfHosted'], kind);
    return {
      kind,
      projectPath: text(input, 'projectPath', PROJECT_PATH, 'the project path, group/project or group/subgroup/project'),
      namespaceId: optional(input, 'namespaceId', () => text(input, 'namespaceId', DIGITS, 'the numeric namespace id as a string')),
      projectId: optional(input, 'projectId', () => text(input, 'projectId', DIGITS, 'the numeric project id as a string')),
      ciConfigPath: text(input, 'ciConfigPath', CONFIG_PATH, 'the pipeline file in the project, e.g. .gitlab-ci.yml'),
      environment: optional(input, 'environment', () => text(input, 'environment', PRINTABLE, 'an environment name')),
      refs: refsOf(input),
      requireProtectedRef: flag(input, 'requireProtectedRef', true),
      allowSelfHosted: flag(input, 'allowSelfHosted', false),
    };
  }
  allowedFields(input, ['conditions'], kind);
  const raw = input.conditions;
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > 20) throw fail('a generic rule needs 1 to 20 `conditions`: [{claim, op, value}]');
  const conditions = raw.map((c, i): ClaimCondition => {
    if (!isObject(c)) throw fail(`conditions[${i}] must be {claim, op, value}`);
    allowedFields(c, ['claim', 'op', 'value'], 'condition');
    const claim = text(c, 'claim', CLAIM, 'a claim name');
    const op = c.op;
    if (!(CONDITION_OPS as readonly unknown[]).includes(op)) throw fail(`conditions[${i}].op must be one of ${CONDITION_OPS.join(', ')}`);
    const value = c.value;
    const ok = op === 'in' ? Array.isArray(value) && value.length > 0 && value.length <= 50 && value.every((v) => typeof v === 'string' && PRINTABLE.test(v)) : typeof value === 'string' && PRINTABLE.test(value);
    if (!ok) throw fail(`conditions[${i}].value must be ${op === 'in' ? 'a list of 1 to 50 strings' : 'a non-empty printable string'}`);
    return { claim, op: op as ConditionOp, value: value as string | string[] };
  });
  if (conditions.every((c) => WEAK_CLAIMS.has(c.claim))) {
    throw fail('a generic rule must test at least one claim other than sub, aud, iss, azp or the times: those alone do not say which project or pipeline is running');
  }
  return { kind, conditions };
}
