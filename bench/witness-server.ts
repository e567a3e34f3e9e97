// The test witnesses of bench:witness, in a process of their own (so their signing and proof
// checks do not slow the load generator while the witnessed service is measured). Prints one JSON
// line with each witness's name, vkey and URL, then takes commands on stdin, one a line:
// `vkey <log vkey>` (the log to witness), `stop <i>`, `start <i>`; answers `ok` to each.
import { createInterface } from 'node:readline';
import { parseVkey } from '../src/core/tlog/vkey.ts';
import { TestWitness } from '../test/support/test-witness.ts';

let log: ReturnType<typeof parseVkey> | undefined;
const witnesses = process.argv.slice(2).map((i) => new TestWitness({ index: Number(i), logs: [{ origin: process.env.BENCH_ORIGIN ?? 'bench.modelsign.test', key: () => (log ? { algorithm: 'Ed25519', publicKey: log.publicKey } : undefined) }] }));
for (const w of witnesses) await w.start();
process.stdout.write(JSON.stringify(witnesses.map((w) => ({ name: w.name, vkey: w.vkey, url: w.url }))) + '\n');
for await (const line of createInterface({ input: process.stdin })) {
  const [command, arg] = line.trim().split(' ');
  if (command === 'vkey') log = parseVkey(arg!);
  else if (command === 'stop') await witnesses[Number(arg)]!.close();
  else if (command === 'start') await witnesses[Number(arg)]!.start();
  process.stdout.write('ok\n');
}
for (const w of witnesses) await w.close();
