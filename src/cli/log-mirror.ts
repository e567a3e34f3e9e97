// `modelsign log mirror --out DIR`: a copy of a C2SP tlog-tiles log in a folder any web server or
// object store can serve (services/tiles-mirror.ts does the work: every new tile checked before
// anything is written, the checkpoint last), read over HTTP from a modelsign service (--server,
// with a side file per entry bundle from GET /v1/log/entries) or any tiles log (--from; another
// modelsign mirror's side files are copied, checked, where it has them).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Wire } from '../api/wire.ts';
import { clientEnv } from '../config.ts';
import { fromBase64 } from '../core/bytes.ts';
import { parseSideFile, sideFilePath, type SideEntry } from '../core/tlog/entry-side-file.ts';
import { MirrorError, mirrorTiles, type MirrorFailure, type MirrorSource } from '../services/tiles-mirror.ts';
import { parse } from './args.ts';
import { CliFailure, EXIT } from './exit-codes.ts';
import { fetchJson, serverUrl } from './http.ts';
import { TilesSource } from './tiles-source.ts';

const USAGE = `Usage: modelsign log mirror --out DIR [--server URL | --from URL] [--vkey VKEY]

Copies a C2SP tlog-tiles log into DIR (checkpoint, tile/..., tile/entries/...), incrementally: tiles
already there (full or partial) are kept, new ones fetched, each checked (the checkpoint's signature,
every new tile against the tiles below it and the leaf data, the root against the checkpoint, and the
previously mirrored checkpoint against the same tiles) before anything is written; the checkpoint is
written last. --server URL mirrors a modelsign service (its /v1/log), with a side file per entry
bundle (modelsign/entries/<N>[.p/<W>].json: each entry's release and signed payload, for log monitor
--tiles); --from URL any tiles log (the prefix under which checkpoint and tile/ are; a modelsign
mirror's side files are copied too). The verifier
key is pinned in DIR/vkey on the first run: --vkey gives it (needed with --from), otherwise the
service's GET /v1/log/vkey is trusted once.
Exit codes: 0 mirrored; 9 the log rewrote or dropped what was mirrored (nothing written); 3 the
checkpoint is not signed by the pinned key; 1 a tile does not match the log; 5 the log could not be
read; 4 DIR could not be written; 2 usage.`;

const EXIT_OF: Record<MirrorFailure, number> = { fork: EXIT.history, rollback: EXIT.history, tampered: EXIT.tampered, untrusted: EXIT.untrusted, source: EXIT.service, io: EXIT.io, usage: EXIT.usage };

/** The entries [start, end) as the service serves them (pages of up to 1,000). */
async function servedEntries(server: string, start: number, end: number): Promise<Wire['LogEntries']['entries']> {
  const out: Wire['LogEntries']['entries'] = [];
  while (start + out.length < end) {
    const page = (await fetchJson(server, `/v1/log/entries?start=${start + out.length}&end=${end}`)) as Wire['LogEntries'];
    if (!Array.isArray(page.entries) || page.entries.length === 0) throw new CliFailure(EXIT.service, `the service served no entries from ${start + out.length}`);
    out.push(...page.entries);
  }
  return out;
}

export async function logMirror(args: string[]): Promise<number> {
  const { values } = parse(args, { out: { type: 'string' }, server: { type: 'string' }, from: { type: 'string' }, vkey: { type: 'string' } }, USAGE);
  if (!values.out) throw new CliFailure(EXIT.usage, `give --out DIR\n\n${USAGE}`);
  if (values.server && values.from) throw new CliFailure(EXIT.usage, 'give --server or --from, not both');
  const server = values.from ? undefined : serverUrl(values.server ?? clientEnv().server).href.replace(/\/$/, '');
  const http = new TilesSource((values.from ?? `${server}/v1/log`).replace(/\/$/, ''));
  const dir = values.out;

  // The verifier key: pinned in the mirror on the first run.
  const pinnedFile = path.join(dir, 'vkey');
  const pinned = existsSync(pinnedFile) ? (await readFile(pinnedFile, 'utf8')).trim() : undefined;
  let vkey = values.vkey ?? pinned;
  if (!vkey) {
    if (!server) throw new CliFailure(EXIT.usage, '--from needs --vkey (the log\'s verifier key) on the first run');
    vkey = new TextDecoder().decode(await new TilesSource(`${server}/v1/log`).bytes('vkey')).trim();
    process.stderr.write(`pinned the log key ${vkey} (from ${server}/v1/log/vkey) in ${pinnedFile}\n`);
  }
  const source: MirrorSource = {
    checkpoint: async () => new TextDecoder().decode(await http.bytes('checkpoint')),
    tile: (rel) => http.bytes(`tile/${rel}`),
    // Side files: from the service's entries, or copied from another mirror's (checked the same way).
    entries: server
      ? async (_bundle, start, end) => (await servedEntries(server, start, end)).map((e) => ({ data: fromBase64(e.data) ?? new Uint8Array(0), side: e }))
      : async (bundle) => {
          const bytes = await http.bytes(sideFilePath(bundle), true);
          if (!bytes) return undefined;
          const entries = parseSideFile(bytes);
          if (!entries) throw new CliFailure(EXIT.tampered, `${http.base}/${sideFilePath(bundle)} is not a side file`);
          return entries.map((side) => ({ side: side as SideEntry }));
        },
  };
  try {
    const r = await mirrorTiles(dir, source, vkey);
    process.stdout.write(`mirrored ${r.origin} at size ${r.size}${r.previousSize !== undefined ? ` (was ${r.previousSize})` : ''}: ${r.files} files written (${Math.round(r.bytes / 1024)} KiB) in ${(r.ms / 1000).toFixed(2)} s\n`);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof MirrorError) throw new CliFailure(EXIT_OF[err.kind], err.message);
    throw err;
  }
}
