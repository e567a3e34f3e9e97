// A publisher as the service keeps it: who may sign which namespaces, and with which algorithm.
import type { AlgorithmId } from './crypto/algorithm.ts';

export interface PublisherRecord {
  id: string;
  name: string;
  namespaces: string[];
  /** Namespace → the algorithm its releases are signed with. */
  signingAlgorithms: Record<string, AlgorithmId>;
  createdAt: Date;
  disabledAt: Date | null;
}
