// Paths to the shared test vectors (../shared/vectors, never edited).
import { fileURLToPath } from 'node:url';

export const VECTORS = fileURLToPath(new URL('../../../shared/vectors/', import.meta.url));
