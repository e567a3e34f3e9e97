// Builds a migrated PGlite data directory once per test run: creating a PGlite database from
// scratch takes seconds, loading this dump well under one.
import { writeFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { wrapPGlite } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';

const out = process.argv[2];
if (!out) throw new Error('usage: make-pglite-template.ts OUT');
const pglite = await PGlite.create();
await migrate(wrapPGlite(pglite));
const dump = await pglite.dumpDataDir('none');
writeFileSync(out, new Uint8Array(await dump.arrayBuffer()));
await pglite.close();
