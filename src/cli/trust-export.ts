// `modelsign trust export`: saves the service's Sigstore trusted root (GET /v1/trusted-root), the
// trust material sigstore-js, sigstore-go and cosign verify modelsign bundles with
// (`cosign verify-blob-attestation --trusted-root FILE`). Checked before it is written: the media
// type sigstore-go accepts, and at least one log whose ID is the C2SP key ID of its key.
import { clientEnv } from '../config.ts';
import { TRUSTED_ROOT_MEDIA_TYPE } from '../api/trusted-root.ts';
import { parse } from './args.ts';
import { CliFailure, EXIT } from './exit-codes.ts';
import { writeFileAtomic } from './files.ts';
import { fetchJson, serverUrl } from './http.ts';

const USAGE = `Usage: modelsign trust export [--server URL] [--out FILE]

Fetches the service's Sigstore trusted root (its log keys and their validity) and writes it to
FILE (default: standard output), for Sigstore clients: sigstore-js, sigstore-go, cosign
(\`--trusted-root FILE\`). Release keys are not in it: give those tools the release key itself.
Exit codes: 0 written; 5 the service could not be reached or failed; 4 FILE could not be written; 2 usage.`;

export async function trustExport(args: string[]): Promise<number> {
  const { values } = parse(args, { server: { type: 'string' }, out: { type: 'string' } }, USAGE);
  const server = serverUrl(values.server ?? clientEnv().server);
  const root = (await fetchJson(server.href, '/v1/trusted-root')) as { mediaType?: unknown; tlogs?: unknown };
  if (root?.mediaType !== TRUSTED_ROOT_MEDIA_TYPE || !Array.isArray(root.tlogs) || root.tlogs.length === 0) {
    throw new CliFailure(EXIT.service, `${server.origin}/v1/trusted-root is not a Sigstore trusted root with a log`);
  }
  const text = JSON.stringify(root, null, 2) + '\n';
  if (!values.out) {
    process.stdout.write(text);
    return EXIT.ok;
  }
  try {
    await writeFileAtomic(values.out, text, 0o644);
  } catch (err) {
    throw new CliFailure(EXIT.io, `cannot write ${values.out}: ${(err as Error).message}`);
  }
  process.stderr.write(`wrote the trusted root of ${server.origin} (${root.tlogs.length} log key${root.tlogs.length === 1 ? '' : 's'}) to ${values.out}\n`);
  return EXIT.ok;
}
