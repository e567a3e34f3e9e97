// Writes cases.json: the witness cases (test/support/witness-cases.ts) on the fixed vector world
// (world.ts), each with its bundle, trusted keys (a JWKS, as GET /v1/keys serves it), policy,
// tlog-proof, clock and expected verdict. test/core/tlog/witness-vectors.test.ts remakes the
// cases in memory and fails when they differ from this file.
//   node --import tsx test/vectors/witness/make-cases.ts > test/vectors/witness/cases.json
import { vectorCases } from './vector-cases.ts';

process.stdout.write(JSON.stringify(await vectorCases(), null, 1) + '\n');
