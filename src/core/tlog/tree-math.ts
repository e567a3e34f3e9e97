// Which subtrees make up a root or a proof. A tree of any size is stored as its perfect subtrees
// ("nodes"): node (level, index) covers leaves [index * 2^level, (index + 1) * 2^level). Every
// hash a proof needs is the RFC 6962 hash of a leaf range, and every such range the RFC's
// recursion produces is a run of perfect nodes, largest first, so a proof needs O(log n) stored
// nodes and no other state. These functions only name ranges and nodes; proof-build.ts fetches
// and combines them, verify-proof.ts checks them.
//
// Indexes are JavaScript numbers (exact to 2^53), so arithmetic avoids 32-bit bitwise operators.
import { TlogError } from './tlog-error.ts';

export interface NodeId {
  level: number;
  index: number;
}

/** [start, end) of leaves. */
export type LeafRange = readonly [number, number];

function assertSize(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new TlogError('range_invalid', `${name} must be a whole number from 0 to 2^53-1, got ${value}`);
}

/** The largest power of two strictly below n (n >= 2), RFC 6962's split point k. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The perfect nodes whose hashes combine (right to left) into the hash of leaves [start, end).
 * Throws on a range that is not a run of aligned perfect subtrees: no RFC 6962 proof asks for one.
 */
export function rangeNodes(start: number, end: number): NodeId[] {
  assertSize('start', start);
  assertSize('end', end);
  if (end <= start) throw new TlogError('range_invalid', `empty leaf range [${start}, ${end})`);
  const nodes: NodeId[] = [];
  let at = start;
  while (at < end) {
    let size = 1;
    while (size * 2 <= end - at) size *= 2;
    if (at % size !== 0) throw new TlogError('range_invalid', `leaf range [${start}, ${end}) is not made of aligned subtrees`);
    let level = 0;
    for (let s = size; s > 1; s /= 2) level++;
    nodes.push({ level, index: at / size });
    at += size;
  }
  return nodes;
}

/** RFC 6962 section 2.1.1 PATH(m, D[n]): the ranges whose hashes form the proof, leaf upwards. */
export function inclusionRanges(index: number, size: number): LeafRange[] {
  assertSize('index', index);
  assertSize('tree size', size);
  if (index >= size) throw new TlogError('range_invalid', `index ${index} is not below tree size ${size}`);
  const out: LeafRange[] = [];
  let start = 0;
  let end = size;
  // Walking down from the root collects siblings top-down; the proof lists them bottom-up.
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (index < start + k) {
      out.push([start + k, end]);
      end = start + k;
    } else {
      out.push([start, start + k]);
      start += k;
    }
  }
  return out.reverse();
}

/** RFC 6962 section 2.1.2 PROOF(m, D[n]): the ranges of a consistency proof, in proof order. */
export function consistencyRanges(size1: number, size2: number): LeafRange[] {
  assertSize('from', size1);
  assertSize('to', size2);
  if (size1 > size2) throw new TlogError('range_invalid', `from (${size1}) is larger than to (${size2})`);
  if (size1 === 0 || size1 === size2) return [];
  const out: LeafRange[] = [];
  let m = size1;
  let start = 0;
  let end = size2;
  let complete = true;
  while (m !== end - start) {
    const k = splitPoint(end - start);
    if (m <= k) {
      out.push([start + k, end]);
      end = start + k;
    } else {
      out.push([start, start + k]);
      m -= k;
      start += k;
      complete = false;
    }
  }
  if (!complete) out.push([start, end]);
  return out.reverse();
}
