// Turns the ranges of tree-math.ts into hashes. Building is split in two so that storage can
// fetch every node a proof needs in one read: `nodesFor` names them, `hashRanges` combines them.
import { RFC6962, type LogHasher } from './hash.ts';
import { rangeNodes, type LeafRange, type NodeId } from './tree-math.ts';
import { TlogError } from './tlog-error.ts';

export type NodeLookup = (id: NodeId) => Uint8Array | undefined;

export const nodeKey = (id: NodeId): string => `${id.level}/${id.index}`;

/** Every stored node the ranges need, without duplicates. */
export function nodesFor(ranges: readonly LeafRange[]): NodeId[] {
  const seen = new Map<string, NodeId>();
  for (const [start, end] of ranges) for (const id of rangeNodes(start, end)) seen.set(nodeKey(id), id);
  return [...seen.values()];
}

/** The RFC 6962 hash of leaves [start, end): its perfect nodes folded from the right. */
export function rangeHash(range: LeafRange, lookup: NodeLookup, hasher: LogHasher = RFC6962): Uint8Array {
  const ids = rangeNodes(range[0], range[1]);
  let hash = need(ids[ids.length - 1]!, lookup);
  for (let i = ids.length - 2; i >= 0; i--) hash = hasher.hashChildren(need(ids[i]!, lookup), hash);
  return hash;
}

export function hashRanges(ranges: readonly LeafRange[], lookup: NodeLookup, hasher: LogHasher = RFC6962): Uint8Array[] {
  return ranges.map((r) => rangeHash(r, lookup, hasher));
}

function need(id: NodeId, lookup: NodeLookup): Uint8Array {
  const hash = lookup(id);
  if (!hash) throw new TlogError('range_invalid', `node ${nodeKey(id)} is not in the tree`);
  return hash;
}
