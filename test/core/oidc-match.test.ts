// Rule matching (core/oidc/match.ts) and rule checking (core/oidc/rules.ts), without a service:
// which claims a GitHub, GitLab or generic rule accepts, what a refusal names, and when it may.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModelsignError } from '../../src/core/errors.ts';
import { globMatches, matchRule, pinnedRule } from '../../src/core/oidc/match.ts';
import { parseRule } from '../../src/core/oidc/rules.ts';
import { githubClaims, gitlabClaims } from '../support/oidc-issuer.ts';

const github = parseRule('github', { repository: 'Acme-Org/Llama-FT', repositoryOwnerId: '65', workflow: 'release.yml', environment: 'RELEASE', refs: ['refs/tags/v*'] });
const gitlab = parseRule('gitlab', { projectPath: 'acme-group/sd-models', ciConfigPath: '.gitlab-ci.yml', environment: 'production', namespaceId: '72' });

describe('trusted-publisher rules', () => {
  it('globs: `*` stays within a segment, `**` crosses them, the rest is literal', () => {
    for (const [pattern, value, expected] of [
      ['refs/tags/v*', 'refs/tags/v1.2.3', true],
      ['refs/tags/v*', 'refs/tags/v1/evil', false],
      ['refs/heads/**', 'refs/heads/release/1.0', true],
      ['refs/tags/v1.0', 'refs/tags/v1x0', false],
      ['refs/tags/(v)', 'refs/tags/(v)', true],
    ] as const) assert.equal(globMatches(pattern, value), expected, `${pattern} ~ ${value}`);
  });

  it('GitHub: matches the documented claim set, case-insensitively where GitHub is, and pins the repository id', () => {
    const result = matchRule(github, githubClaims({ repository: 'acme-org/llama-ft' }));
    assert.deepEqual(result, { matched: true, pins: { repositoryId: '74' } });
    if (!result.matched) return;
    assert.deepEqual(matchRule(pinnedRule(github, result.pins), githubClaims({ repository_id: '75' })), { matched: false, anchored: true, condition: 'repository_id (the repository was deleted and re-created, or the rule names another)' });
  });

  const refusals: [string, Record<string, unknown>, boolean, RegExp][] = [
    ['another repository', { repository: 'evil/llama-ft' }, false, /^repository$/],
    ['another owner id', { repository_owner_id: '1' }, true, /repository_owner_id/],
    ['pull_request_target', { event_name: 'pull_request_target' }, true, /pull_request_target/],
    ['a self-hosted runner', { runner_environment: 'self-hosted' }, true, /runner_environment/],
    ['a missing runner environment', { runner_environment: undefined }, true, /runner_environment/],
    ['the workflow of another repository', { workflow_ref: 'evil/llama-ft/.github/workflows/release.yml@refs/tags/v1' }, true, /workflow_ref/],
    ['a workflow in another folder', { workflow_ref: 'acme-org/llama-ft/other/release.yml@refs/tags/v1' }, true, /workflow_ref/],
    ['no environment', { environment: undefined }, true, /environment/],
    ['a branch', { ref: 'refs/heads/main' }, true, /ref/],
    ['no sha', { sha: undefined }, true, /sha/],
  ];
  for (const [what, overrides, anchored, condition] of refusals) {
    it(`GitHub: refuses ${what}${anchored ? ', naming the condition' : ' without naming anything'}`, () => {
      const claims = githubClaims(overrides);
      for (const [k, v] of Object.entries(overrides)) if (v === undefined) delete claims[k];
      const result = matchRule(github, claims);
      assert.equal(result.matched, false);
      if (result.matched) return;
      assert.equal(result.anchored, anchored);
      assert.match(result.condition, condition);
    });
  }

  it('GitLab: matches, pins the project id (the namespace id was given), refuses forks, merge requests, other files and unprotected refs', () => {
    assert.deepEqual(matchRule(gitlab, gitlabClaims()), { matched: true, pins: { projectId: '20' } });
    const refused = (o: Record<string, unknown>) => matchRule(gitlab, gitlabClaims(o));
    assert.deepEqual(refused({ project_path: 'mallory/sd-models' }), { matched: false, anchored: false, condition: 'project_path' });
    assert.match((refused({ namespace_id: '99' }) as { condition: string }).condition, /namespace_id/);
    assert.match((refused({ pipeline_source: 'merge_request_event' }) as { condition: string }).condition, /pipeline_source/);
    assert.match((refused({ job_project_path: 'mallory/sd-models' }) as { condition: string }).condition, /job_project_path/);
    assert.match((refused({ ci_config_ref_uri: 'gitlab.example.com/acme-group/sd-models//other.yml@refs/tags/v2.0' }) as { condition: string }).condition, /ci_config_ref_uri/);
    assert.match((refused({ environment: 'Production' }) as { condition: string }).condition, /environment/, 'GitLab environments are case-sensitive');
    assert.match((refused({ ref_protected: 'false' }) as { condition: string }).condition, /ref_protected/);
  });

  it('generic: all conditions must hold; only a token meeting the first is told which failed', () => {
    const rule = parseRule('generic', { conditions: [{ claim: 'email', op: 'equals', value: 'ci@acme.example' }, { claim: 'email_verified', op: 'in', value: ['true'] }] });
    assert.equal(matchRule(rule, { email: 'ci@acme.example', email_verified: 'true' }).matched, true);
    assert.deepEqual(matchRule(rule, { email: 'x@acme.example', email_verified: 'true' }), { matched: false, anchored: false, condition: 'email' });
    assert.deepEqual(matchRule(rule, { email: 'ci@acme.example', email_verified: 'false' }), { matched: false, anchored: true, condition: 'email_verified' });
  });

  it('refuses rules that would let too much in, with invalid_trusted_publisher', () => {
    for (const [kind, input] of [
      ['github', { repository: 'acme-org/x', workflow: 'release.yml' }],
      ['github', { repository: 'acme-org/x', repositoryOwnerId: 'acme', workflow: 'release.yml' }],
      ['github', { repository: 'acme-org/x', repositoryOwnerId: '1', workflow: '../release.yml' }],
      ['github', { repository: 'acme-org/x', repositoryOwnerId: '1', workflow: 'release.yml', refs: ['main'] }],
      ['github', { repository: 'acme-org/x', repositoryOwnerId: '1', workflow: 'release.yml', extra: true }],
      ['gitlab', { projectPath: 'sd-models', ciConfigPath: '.gitlab-ci.yml' }],
      ['generic', { conditions: [] }],
      ['generic', { conditions: [{ claim: 'sub', op: 'equals', value: 'x' }, { claim: 'aud', op: 'equals', value: 'y' }] }],
      ['generic', { conditions: [{ claim: 'email', op: 'regex', value: '.*' }] }],
    ] as const) {
      assert.throws(() => parseRule(kind, input), (err: unknown) => err instanceof ModelsignError && err.code === 'invalid_trusted_publisher', JSON.stringify(input));
    }
  });
});
