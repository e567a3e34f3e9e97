// Matching the verified claims of an ID token against one trusted-publisher rule. Pure: the
// exchange (services/oidc-exchange.ts) verifies the token first, and calls this for every
// live rule of the token's issuer.
//
// The result says whether the token reached the rule's anchor (its repository, project, or first
// condition). Only then may a refusal name the failing condition: telling an arbitrary caller
// which condition its token failed would map the rules of other people's repositories.
import type { ClaimCondition, GenericRule, GithubRule, GitlabRule, TrustedPublisherRule } from './rules.ts';

/** Ids a rule left empty, to be pinned to the values the first matching token carried. */
export interface RulePins {
  repositoryId?: string;
  namespaceId?: string;
  projectId?: string;
}

export type MatchResult =
  | { matched: true; pins: RulePins }
  | { matched: false; anchored: boolean; condition: string };

type Claims = Readonly<Record<string, unknown>>;

const refuse = (anchored: boolean, condition: string): MatchResult => ({ matched: false, anchored, condition });

function claim(claims: Claims, name: string): string | undefined {
  const value = claims[name];
  return typeof value === 'string' ? value : undefined;
}

const escape = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

/** `*` matches within one `/`-separated segment, `**` across segments; everything else literally. */
export function globMatches(pattern: string, value: string): boolean {
  const source = pattern
    .split('**')
    .map((part) => part.split('*').map(escape).join('[^/]*'))
    .join('.*');
  return new RegExp(`^${source}$`, 's').test(value);
}

export function matchRule(rule: TrustedPublisherRule, claims: Claims): MatchResult {
  switch (rule.kind) {
    case 'github':
      return matchGithub(rule, claims);
    case 'gitlab':
      return matchGitlab(rule, claims);
    case 'generic':
      return matchGeneric(rule, claims);
  }
}

/** `owner/repo/.github/workflows/release.yml@refs/tags/v1` → { repository, path, ref }. */
function splitWorkflowRef(ref: string): { repository: string; path: string; at: string } | undefined {
  const m = /^([^/@]+\/[^/@]+)\/([^@]+)@(.*)$/s.exec(ref);
  return m ? { repository: m[1]!, path: m[2]!, at: m[3]! } : undefined;
}

function matchGithub(rule: GithubRule, c: Claims): MatchResult {
  const repository = claim(c, 'repository');
  if (repository === undefined || repository.toLowerCase() !== rule.repository.toLowerCase()) return refuse(false, 'repository');
  // From here the token is from the rule's repository (by name): say what failed.
  if (claim(c, 'repository_owner_id') !== rule.repositoryOwnerId) return refuse(true, 'repository_owner_id (the owner was re-registered, or the rule names another owner)');
  const repositoryId = claim(c, 'repository_id');
  if (repositoryId === undefined || !/^[0-9]+$/.test(repositoryId)) return refuse(true, 'repository_id (missing)');
  if (rule.repositoryId !== null && repositoryId !== rule.repositoryId) return refuse(true, 'repository_id (the repository was deleted and re-created, or the rule names another)');
  // pull_request_target runs the base repository's workflow with a fork's code at hand.
  const event = claim(c, 'event_name');
  if (event === undefined) return refuse(true, 'event_name (missing)');
  if (event === 'pull_request_target') return refuse(true, 'event_name (pull_request_target is never trusted)');
  if (!rule.allowSelfHosted && claim(c, 'runner_environment') !== 'github-hosted') return refuse(true, 'runner_environment (a self-hosted runner; the rule allows GitHub-hosted runners only)');
  const workflow = splitWorkflowRef(claim(c, 'workflow_ref') ?? '');
  if (!workflow || workflow.repository.toLowerCase() !== rule.repository.toLowerCase() || workflow.path !== `.github/workflows/${rule.workflow}`) return refuse(true, 'workflow_ref (another workflow file)');
  if (rule.jobWorkflowRef !== null && claim(c, 'job_workflow_ref') !== rule.jobWorkflowRef) return refuse(true, 'job_workflow_ref (another reusable workflow or ref)');
  if (rule.environment !== null && claim(c, 'environment')?.toLowerCase() !== rule.environment.toLowerCase()) return refuse(true, 'environment');
  const ref = claim(c, 'ref');
  if (rule.refs.length > 0 && (ref === undefined || !rule.refs.some((p) => globMatches(p, ref)))) return refuse(true, 'ref');
  if (claim(c, 'sha') === undefined) return refuse(true, 'sha (missing)');
  return { matched: true, pins: rule.repositoryId === null ? { repositoryId } : {} };
}

function matchGitlab(rule: GitlabRule, c: Claims): MatchResult {
  const projectPath = claim(c, 'project_path');
  if (projectPath === undefined || projectPath.toLowerCase() !== rule.projectPath.toLowerCase()) return refuse(false, 'project_path');
  const namespaceId = claim(c, 'namespace_id');
  const projectId = claim(c, 'project_id');
  if (namespaceId === undefined || !/^[0-9]+$/.test(namespaceId)) return refuse(true, 'namespace_id (missing)');
  if (projectId === undefined || !/^[0-9]+$/.test(projectId)) return refuse(true, 'project_id (missing)');
  if (rule.namespaceId !== null && namespaceId !== rule.namespaceId) return refuse(true, 'namespace_id (the group was re-created, or the rule names another)');
  if (rule.projectId !== null && projectId !== rule.projectId) return refuse(true, 'project_id (the project was re-created, or the rule names another)');
  // A fork's merge request pipeline (whichever project it runs in) never publishes.
  const source = claim(c, 'pipeline_source');
  if (source === undefined) return refuse(true, 'pipeline_source (missing)');
  if (source === 'merge_request_event' || source === 'external_pull_request_event') return refuse(true, 'pipeline_source (merge request pipelines are never trusted)');
  const jobProject = claim(c, 'job_project_path');
  if (jobProject !== undefined && jobProject.toLowerCase() !== rule.projectPath.toLowerCase()) return refuse(true, 'job_project_path (the job ran in another project, e.g. a fork)');
  if (!rule.allowSelfHosted && claim(c, 'runner_environment') !== 'gitlab-hosted') return refuse(true, 'runner_environment (a self-managed runner; the rule allows GitLab-hosted runners only)');
  const config = /^([^@]*?)\/\/([^@]+)@(.*)$/s.exec(claim(c, 'ci_config_ref_uri') ?? '');
  if (!config || !config[1]!.toLowerCase().endsWith(`/${rule.projectPath.toLowerCase()}`) || config[2] !== rule.ciConfigPath) return refuse(true, 'ci_config_ref_uri (another pipeline file or project)');
  if (rule.environment !== null && claim(c, 'environment') !== rule.environment) return refuse(true, 'environment');
  if (rule.requireProtectedRef && claim(c, 'ref_protected') !== 'true') return refuse(true, 'ref_protected (the ref is not protected)');
  const ref = claim(c, 'ref_path');
  if (rule.refs.length > 0 && (ref === undefined || !rule.refs.some((p) => globMatches(p, ref)))) return refuse(true, 'ref_path');
  if (claim(c, 'sha') === undefined) return refuse(true, 'sha (missing)');
  const pins: RulePins = {};
  if (rule.namespaceId === null) pins.namespaceId = namespaceId;
  if (rule.projectId === null) pins.projectId = projectId;
  return { matched: true, pins };
}

function holds(condition: ClaimCondition, c: Claims): boolean {
  const value = claim(c, condition.claim);
  if (value === undefined) return false;
  switch (condition.op) {
    case 'equals':
      return value === condition.value;
    case 'equals_ci':
      return value.toLowerCase() === (condition.value as string).toLowerCase();
    case 'glob':
      return globMatches(condition.value as string, value);
    case 'in':
      return (condition.value as string[]).includes(value);
  }
}

function matchGeneric(rule: GenericRule, c: Claims): MatchResult {
  for (const [i, condition] of rule.conditions.entries()) {
    if (!holds(condition, c)) return refuse(i > 0, condition.claim);
  }
  return { matched: true, pins: {} };
}

/** The rule with the ids a match pinned filled in. */
export function pinnedRule(rule: TrustedPublisherRule, pins: RulePins): TrustedPublisherRule {
  if (rule.kind === 'github' && pins.repositoryId !== undefined) return { ...rule, repositoryId: pins.repositoryId };
  if (rule.kind === 'gitlab' && (pins.namespaceId !== undefined || pins.projectId !== undefined)) {
    return { ...rule, namespaceId: rule.namespaceId ?? pins.namespaceId ?? null, projectId: rule.projectId ?? pins.projectId ?? null };
  }
  return rule;
}
