// Every command of `modelsign` and its usage: main.ts dispatches to them, and so does the suite's
// in-process runner of admin commands (test/support/admin-cli.ts).
import { CLIENT_COMMANDS } from './client-commands.ts';
import type { Commands } from './dispatch.ts';

export const USAGE = `Usage: modelsign <command> [options]

Commands:
  serve                   run the HTTP service
  witness                 run a C2SP witness for other logs (vkey, set-log-key)
  admin token             issue a token (the first admin token comes from here)
  admin keys              list, rotate and revoke keys
  admin publisher         list, create, disable, enable publishers; change namespaces and their signing algorithm
  admin oidc-issuer       list, add, remove the OIDC issuers trusted publishing accepts
  admin trusted-publisher list, add, remove a publisher's trusted-publisher rules (CI without secrets)
  admin rewrap            re-encrypt every private key under a new KEK
  admin audit-verify      check the audit trail's hash chain
  log monitor             check that the transparency log only grows (for cron)
  log mirror              copy the log as C2SP tiles into a folder any web server can serve, checked
  trust export            save the service's Sigstore trusted root (for sigstore-js, sigstore-go, cosign)
  proof fetch BUNDLE      save a release's witness proof (model.sig.tlog-proof) from a witnessed service
  hash PATH               the manifest (file SHA-256s, root digest) of a model folder or file
  scan PATH               what each file is: safetensors, plain data, allowlisted or code-capable pickle
  sign PATH               have the service sign a model; writes the bundle next to it
  verify PATH             check a model against its bundle before loading it
  audit DIR...            check every model under folders (for cron)

Run \`modelsign <command> --help\` for a command's options.`;

export const COMMANDS: Commands = {
  serve: async () => (await import('./serve.ts')).serve,
  witness: async () => (await import('./witness.ts')).witness,
  'admin token': async () => (await import('./admin-token.ts')).adminToken,
  'admin keys': async () => (await import('./admin-keys.ts')).adminKeys,
  'admin publisher': async () => (await import('./admin-publisher.ts')).adminPublisher,
  'admin oidc-issuer': async () => (await import('./admin-oidc.ts')).adminOidcIssuer,
  'admin trusted-publisher': async () => (await import('./admin-oidc.ts')).adminTrustedPublisher,
  'admin rewrap': async () => (await import('./admin-rewrap.ts')).adminRewrap,
  'admin audit-verify': async () => (await import('./admin-audit-verify.ts')).adminAuditVerify,
  ...CLIENT_COMMANDS,
};
