import { fileURLToPath } from 'node:url';

/** A file of test/interop/fixtures. */
export const fixtureFile = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
