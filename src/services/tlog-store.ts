// SQL for the log's tree: appending leaves inside a caller's transaction, and reading the nodes
// a proof needs in one statement. Nodes never change once written, so every instance may cache
// them; the cache here is an LRU of recently written or read nodes.
import { LRUCache } from 'lru-cache';
import { bytesToHex } from '../core/bytes.ts';
import { appendLeaves, packFrontier, unpackFrontier, type StoredNode, type TreeEdge } from '../core/tlog/compact-range.ts';
import { nodeKey, type NodeLookup } from '../core/tlog/proof-build.ts';
import type { NodeId } from '../core/tlog/tree-math.ts';
import type { SqlSession } from '../db/client.ts';

type Query = Pick<SqlSession, 'query'>;

const toBytes = (v: Uint8Array) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);

/** Locks the log for appending until the caller's transaction ends. */
export async function lockTreeEdge(session: Query): Promise<TreeEdge> {
  const [row] = await session.query<{ size: string; frontier: Uint8Array }>('SELECT "size"::text AS "size", "frontier" FROM "tlog_state" WHERE "id" = 1 FOR UPDATE');
  if (!row) throw new Error('tlog_state is missing its row; the tlog migration did not run');
  return unpackFrontier(Number(row.size), toBytes(row.frontier));
}

// One statement stores the new nodes and the new edge; hashes travel as hex in text[] so the
// same SQL works through pg and PGlite.
const APPEND = `
  WITH nodes AS (
    INSERT INTO "tlog_nodes" ("level", "idx", "hash")
    SELECT l, i, decode(h, 'hex') FROM unnest($1::smallint[], $2::bigint[], $3::text[]) AS t(l, i, h)
  )
  UPDATE "tlog_state" SET "size" = $4::bigint, "frontier" = decode($5, 'hex') WHERE "id" = 1 AND "size" = $6::bigint
  RETURNING "size"`;

/** Appends leaves after lockTreeEdge in the same transaction; returns the new edge and nodes. */
export async function appendToTree(session: Query, edge: TreeEdge, leafHashes: readonly Uint8Array[]): Promise<{ edge: TreeEdge; nodes: StoredNode[] }> {
  const next = appendLeaves(edge, leafHashes);
  if (leafHashes.length === 0) return next;
  const updated = await session.query(APPEND, [
    next.nodes.map((n) => n.level),
    next.nodes.map((n) => String(n.index)),
    next.nodes.map((n) => bytesToHex(n.hash)),
    String(next.edge.size),
    bytesToHex(packFrontier(next.edge.frontier)),
    String(edge.size),
  ]);
  // Only possible if the caller did not hold the lock: refuse rather than fork the tree.
  if (updated.length !== 1) throw new Error(`the log moved past size ${edge.size} during an append`);
  return next;
}

export class NodeReader {
  private readonly cache: LRUCache<string, Uint8Array> | undefined;

  constructor(
    private readonly db: Query,
    cacheSize: number,
  ) {
    this.cache = cacheSize > 0 ? new LRUCache({ max: cacheSize }) : undefined;
  }

  remember(nodes: readonly StoredNode[]): void {
    if (this.cache) for (const n of nodes) this.cache.set(nodeKey(n), n.hash);
  }

  /** Fetches what the cache lacks in one query and returns a lookup over all of `ids`. */
  async read(ids: readonly NodeId[]): Promise<NodeLookup> {
    const found = new Map<string, Uint8Array>();
    const missing: NodeId[] = [];
    for (const id of ids) {
      const hit = this.cache?.get(nodeKey(id));
      if (hit) found.set(nodeKey(id), hit);
      else missing.push(id);
    }
    if (missing.length > 0) {
      const rows = await this.db.query<{ level: number; idx: string; hash: Uint8Array }>(
        'SELECT n."level", n."idx"::text AS "idx", n."hash" FROM "tlog_nodes" n JOIN unnest($1::smallint[], $2::bigint[]) AS t(l, i) ON n."level" = t.l AND n."idx" = t.i',
        [missing.map((m) => m.level), missing.map((m) => String(m.index))],
      );
      for (const r of rows) {
        const key = `${r.level}/${r.idx}`;
        const hash = new Uint8Array(toBytes(r.hash));
        found.set(key, hash);
        this.cache?.set(key, hash);
      }
    }
    return (id) => found.get(nodeKey(id));
  }
}
