// Who signed: the identity behind a release signature. A token an admin issued is named by its
// jti; a token minted by trusted publishing carries the CI run its ID token described, under the
// names Fulcio gives these fields (1.3.6.1.4.1.57264.1.8 to .24), so auditors who know Sigstore
// read them without a table. Personal data in ID tokens (user e-mail, login, actor) is never kept.
import type { IssuerKind } from './rules.ts';

export interface CiIdentity {
  issuer: string;
  issuerKind: IssuerKind;
  /** The raw `sub` (its format differs between issuers and repositories; informational only). */
  subject: string | null;
  buildSignerUri: string | null;
  buildSignerDigest: string | null;
  runnerEnvironment: string | null;
  sourceRepositoryUri: string | null;
  sourceRepositoryDigest: string | null;
  sourceRepositoryRef: string | null;
  sourceRepositoryIdentifier: string | null;
  sourceRepositoryOwnerUri: string | null;
  sourceRepositoryOwnerIdentifier: string | null;
  buildConfigUri: string | null;
  buildConfigDigest: string | null;
  buildTrigger: string | null;
  runInvocationUri: string | null;
  sourceRepositoryVisibility: string | null;
  deploymentEnvironment: string | null;
  /** `owner/name` or the project path: what the public may see when the rule says so. */
  repository: string | null;
}

/** What a signature records about who made it (admins and auditors see all of it). */
export type SignerIdentity =
  | { method: 'token'; tokenJti: string }
  | ({ method: 'oidc'; tokenJti: string; exchangeId: string; ruleId: string; jti: string; repositoryPublic: boolean } & CiIdentity);

/** What anyone may see: how the publisher signed, the issuer kind, and the repository when its rule makes it public. */
export type PublicIdentity = { method: 'token' } | { method: 'oidc'; issuerKind: IssuerKind; repository?: string };

export function publicIdentity(identity: SignerIdentity | null): PublicIdentity | null {
  if (identity === null) return null;
  if (identity.method === 'token') return { method: 'token' };
  return { method: 'oidc', issuerKind: identity.issuerKind, ...(identity.repositoryPublic && identity.repository ? { repository: identity.repository } : {}) };
}

type Claims = Readonly<Record<string, unknown>>;

const str = (c: Claims, name: string): string | null => (typeof c[name] === 'string' && c[name] !== '' ? (c[name] as string) : null);

/** The origin of an issuer URL (`https://gitlab.example.com`), for building repository URIs. */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

export function ciIdentityOf(issuer: string, kind: IssuerKind, c: Claims): CiIdentity {
  const base: CiIdentity = {
    issuer,
    issuerKind: kind,
    subject: str(c, 'sub'),
    buildSignerUri: null,
    buildSignerDigest: null,
    runnerEnvironment: str(c, 'runner_environment'),
    sourceRepositoryUri: null,
    sourceRepositoryDigest: str(c, 'sha'),
    sourceRepositoryRef: null,
    sourceRepositoryIdentifier: null,
    sourceRepositoryOwnerUri: null,
    sourceRepositoryOwnerIdentifier: null,
    buildConfigUri: null,
    buildConfigDigest: null,
    buildTrigger: null,
    runInvocationUri: null,
    sourceRepositoryVisibility: null,
    deploymentEnvironment: str(c, 'environment'),
    repository: null,
  };
  if (kind === 'github') {
    // GitHub's issuer is token.actions.githubusercontent.com for github.com; GHES and data
    // residency issuers serve their own host.
    const host = issuer.startsWith('https://token.actions.githubusercontent.com') ? 'https://github.com' : originOf(issuer);
    const repository = str(c, 'repository');
    const run = str(c, 'run_id');
    return {
      ...base,
      buildSignerUri: str(c, 'job_workflow_ref') && `${host}/${str(c, 'job_workflow_ref')}`,
      buildSignerDigest: str(c, 'job_workflow_sha'),
      sourceRepositoryUri: repository && `${host}/${repository}`,
      sourceRepositoryRef: str(c, 'ref'),
      sourceRepositoryIdentifier: str(c, 'repository_id'),
      sourceRepositoryOwnerUri: str(c, 'repository_owner') && `${host}/${str(c, 'repository_owner')}`,
      sourceRepositoryOwnerIdentifier: str(c, 'repository_owner_id'),
      buildConfigUri: str(c, 'workflow_ref') && `${host}/${str(c, 'workflow_ref')}`,
      buildConfigDigest: str(c, 'workflow_sha'),
      buildTrigger: str(c, 'event_name'),
      runInvocationUri: repository && run ? `${host}/${repository}/actions/runs/${run}/attempts/${str(c, 'run_attempt') ?? '1'}` : null,
      sourceRepositoryVisibility: str(c, 'repository_visibility'),
      repository,
    };
  }
  if (kind === 'gitlab') {
    const host = originOf(issuer);
    const project = str(c, 'project_path');
    const job = str(c, 'job_id');
    const config = str(c, 'ci_config_ref_uri');
    return {
      ...base,
      buildSignerUri: config && `https://${config}`,
      buildSignerDigest: str(c, 'ci_config_sha'),
      sourceRepositoryUri: project && `${host}/${project}`,
      sourceRepositoryRef: str(c, 'ref_path'),
      sourceRepositoryIdentifier: str(c, 'project_id'),
      sourceRepositoryOwnerUri: str(c, 'namespace_path') && `${host}/${str(c, 'namespace_path')}`,
      sourceRepositoryOwnerIdentifier: str(c, 'namespace_id'),
      buildConfigUri: config && `https://${config}`,
      buildConfigDigest: str(c, 'ci_config_sha'),
      buildTrigger: str(c, 'pipeline_source'),
      runInvocationUri: project && job ? `${host}/${project}/-/jobs/${job}` : null,
      sourceRepositoryVisibility: str(c, 'project_visibility'),
      repository: project,
    };
  }
  return base;
}
