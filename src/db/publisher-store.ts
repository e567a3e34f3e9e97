// The publishers and publisher_namespaces tables. A namespace is a row of its own, so ownership
// is exclusive by primary key: no two publishers can sign under the same namespace.
import type { AlgorithmId } from '../core/crypto/algorithm.ts';
import { isAlgorithmId } from '../core/crypto/registry.ts';
import type { PublisherRecord } from '../core/publisher.ts';
import type { Tx } from './client.ts';


const SELECT = { id: true, name: true, createdAt: true, disabledAt: true, namespaces: { select: { namespace: true, signingAlgorithm: true } } } as const;

type Selected = { id: string; name: string; createdAt: Date; disabledAt: Date | null; namespaces: { namespace: string; signingAlgorithm: string }[] };

/**
 * Namespace → signing algorithm of namespace rows. The column's check admits only known
 * algorithms; a row naming another (a newer version's) is left out, so it signs with nothing.
 */
export function signingAlgorithmsOf(rows: readonly { namespace: string; signingAlgorithm: string }[]): Record<string, AlgorithmId> {
  const out: Record<string, AlgorithmId> = {};
  for (const r of rows) if (isAlgorithmId(r.signingAlgorithm)) out[r.namespace] = r.signingAlgorithm;
  return out;
}

function toRow(row: Selected): PublisherRecord {
  const namespaces = [...row.namespaces].sort((a, b) => (a.namespace < b.namespace ? -1 : 1));
  return {
    id: row.id,
    name: row.name,
    namespaces: namespaces.map((n) => n.namespace),
    signingAlgorithms: signingAlgorithmsOf(namespaces),
    createdAt: row.createdAt,
    disabledAt: row.disabledAt,
  };
}

export async function listPublishers(session: Tx): Promise<PublisherRecord[]> {
  return (await session.publisher.findMany({ select: SELECT, orderBy: { createdAt: 'asc' } })).map(toRow);
}

export async function findPublisher(session: Tx, by: { id: string } | { name: string }): Promise<PublisherRecord | undefined> {
  const row = await session.publisher.findUnique({ where: by, select: SELECT });
  return row ? toRow(row) : undefined;
}

/** Which of `namespaces` belong to a publisher other than `except`. */
export async function takenNamespaces(session: Tx, namespaces: readonly string[], except?: string): Promise<string[]> {
  const rows = await session.publisherNamespace.findMany({
    where: { namespace: { in: [...namespaces] }, ...(except ? { NOT: { publisherId: except } } : {}) },
    select: { namespace: true },
  });
  return rows.map((r) => r.namespace);
}

export async function insertPublisher(tx: Tx, p: { id: string; name: string; namespaces: readonly string[]; createdAt: Date }): Promise<PublisherRecord> {
  return toRow(await tx.publisher.create({ data: { id: p.id, name: p.name, createdAt: p.createdAt, namespaces: { create: p.namespaces.map((namespace) => ({ namespace })) } }, select: SELECT }));
}

/** Makes `namespaces` exactly the publisher's namespaces. */
export async function replaceNamespaces(tx: Tx, publisherId: string, namespaces: readonly string[]): Promise<void> {
  await tx.publisherNamespace.deleteMany({ where: { publisherId, namespace: { notIn: [...namespaces] } } });
  await tx.publisherNamespace.createMany({ data: namespaces.map((namespace) => ({ namespace, publisherId })), skipDuplicates: true });
}

export async function setPublisherDisabledAt(tx: Tx, publisherId: string, disabledAt: Date | null): Promise<PublisherRecord> {
  return toRow(await tx.publisher.update({ where: { id: publisherId }, data: { disabledAt }, select: SELECT }));
}

/** Sets the signing algorithm of some of a publisher's namespaces. */
export async function setSigningAlgorithms(tx: Tx, publisherId: string, algorithms: Readonly<Record<string, AlgorithmId>>): Promise<void> {
  for (const [namespace, signingAlgorithm] of Object.entries(algorithms)) {
    await tx.publisherNamespace.update({ where: { namespace, publisherId }, data: { signingAlgorithm } });
  }
}
