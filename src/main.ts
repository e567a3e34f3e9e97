// The `modelsign` command: dispatches to one file per command under cli/.
import { CLIENT_COMMANDS } from './cli/client-commands.ts';
import { dispatch, type Commands } from './cli/dispatch.ts';

const USAGE = `Usage: modelsign <command> [options]

Commands:
  serve                   run the HTTP service
  admin token             issue a token (the first admin token comes from here)
  admin keys              list, rotate and revoke keys
  admin publisher         list, create, disable, enable publishers; change namespaces and their signing algorithm
  admin oidc-issuer       list, add, remove the OIDC issuers trusted publishing accepts
  admin trusted-publisher list, add, remove a publisher's trusted-publisher rules (CI without secrets)
  admin rewrap            re-encrypt every private key under a new KEK
  admin audit-verify      check the audit trail's hash chain
  log monitor             check that the transparency log only grows (for cron)
  trust export            save the service's Sigstore trusted root (for sigstore-js, sigstore-go, cosign)
  hash PATH               the manifest (file SHA-256s, root digest) of a model folder or file
  scan PATH               what each file is: safetensors, plain data, allowlisted or code-capable pickle
  sign PATH               have the service sign a model; writes the bundle next to it
  verify PATH             check a model against its bundle before loading it
  audit DIR...            check every model under folders (for cron)

Run \`modelsign <command> --help\` for a command's options.`;

const COMMANDS: Commands = {
  serve: async () => (await import('./cli/serve.ts')).serve,
  'admin token': async () => (await import('./cli/admin-token.ts')).adminToken,
  'admin keys': async () => (await import('./cli/admin-keys.ts')).adminKeys,
  'admin publisher': async () => (await import('./cli/admin-publisher.ts')).adminPublisher,
  'admin oidc-issuer': async () => (await import('./cli/admin-oidc.ts')).adminOidcIssuer,
  'admin trusted-publisher': async () => (await import('./cli/admin-oidc.ts')).adminTrustedPublisher,
  'admin rewrap': async () => (await import('./cli/admin-rewrap.ts')).adminRewrap,
  'admin audit-verify': async () => (await import('./cli/admin-audit-verify.ts')).adminAuditVerify,
  ...CLIENT_COMMANDS,
};

process.exitCode = await dispatch(process.argv.slice(2), COMMANDS, USAGE);
