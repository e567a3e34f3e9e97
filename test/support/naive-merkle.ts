// A deliberately naive RFC 6962 tree, written straight from the RFC's recursive definitions
// (MTH, PATH, SUBPROOF) over a list of leaf hashes, to check the real implementation against.
// Range hashes are memoised only so that every pair up to a few hundred leaves runs in seconds.
import { createHash } from 'node:crypto';

const sha = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

export const naiveLeafHash = (data: Uint8Array) => sha(new Uint8Array([0]), data);

export class NaiveTree {
  private memo = new Map<string, Uint8Array>();
  constructor(readonly leaves: Uint8Array[]) {}

  private k(n: number): number {
    let k = 1;
    while (k * 2 < n) k *= 2;
    return k;
  }

  mth(a: number, b: number): Uint8Array {
    const key = `${a},${b}`;
    let h = this.memo.get(key);
    if (h) return h;
    if (b - a === 0) h = sha();
    else if (b - a === 1) h = this.leaves[a]!;
    else {
      const k = this.k(b - a);
      h = sha(new Uint8Array([1]), this.mth(a, a + k), this.mth(a + k, b));
    }
    this.memo.set(key, h);
    return h;
  }

  root(size: number): Uint8Array {
    return this.mth(0, size);
  }

  path(m: number, a: number, b: number): Uint8Array[] {
    if (b - a <= 1) return [];
    const k = this.k(b - a);
    return m < k ? [...this.path(m, a, a + k), this.mth(a + k, b)] : [...this.path(m - k, a + k, b), this.mth(a, a + k)];
  }

  inclusion(index: number, size: number): Uint8Array[] {
    return this.path(index, 0, size);
  }

  private subproof(m: number, a: number, b: number, complete: boolean): Uint8Array[] {
    if (m === b - a) return complete ? [] : [this.mth(a, b)];
    const k = this.k(b - a);
    return m <= k
      ? [...this.subproof(m, a, a + k, complete), this.mth(a + k, b)]
      : [...this.subproof(m - k, a + k, b, false), this.mth(a, a + k)];
  }

  consistency(size1: number, size2: number): Uint8Array[] {
    if (size1 === 0 || size1 === size2) return [];
    return this.subproof(size1, 0, size2, true);
  }
}
