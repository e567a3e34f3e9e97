// The witness cases of the vector world, in the JSON form cases.json holds.
import { witnessCases } from '../../support/witness-cases.ts';
import { fileContent, vectorWorld } from './world.ts';

export async function vectorCases() {
  const { world, keys } = await vectorWorld();
  const cases = await witnessCases(world);
  return {
    description: 'Witness cases (C2SP tlog-policy, tlog-cosignature, tlog-proof) on a fixed log; see README.md',
    keys,
    files: { 'weights.bin': fileContent(world.index) },
    cases,
  };
}
