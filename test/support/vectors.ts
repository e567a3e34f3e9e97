// Paths to the test vectors: verbatim copies of ../shared/vectors kept in test/vectors.
import { fileURLToPath } from 'node:url';

export const VECTORS = fileURLToPath(new URL('../vectors/', import.meta.url));
