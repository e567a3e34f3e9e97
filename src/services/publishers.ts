// Publishers: release pipelines allowed to sign under the namespaces they own. Ownership is
// exclusive (one row per namespace), so no two publishers can sign the same model name.
import { randomUUID } from 'node:crypto';
import { isUuid } from '../core/ids.ts';
import { ModelsignError, type ErrorDetail } from '../core/errors.ts';
import { isNamespace, PUBLISHER_NAME_PATTERN } from '../core/release-name.ts';
import type { PrismaClient } from '../db/client.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { recordAudit } from './audit.ts';
import type { Clock } from './clock.ts';
import { bumpStateEpoch } from './state-epoch.ts';

export interface PublisherView {
  id: string;
  name: string;
  namespaces: string[];
  createdAt: Date;
  disabledAt: Date | null;
}

const PUBLISHER_NAME = new RegExp(PUBLISHER_NAME_PATTERN);
const SELECT = { id: true, name: true, createdAt: true, disabledAt: true, namespaces: { select: { namespace: true } } } as const;

type Row = { id: string; name: string; createdAt: Date; disabledAt: Date | null; namespaces: { namespace: string }[] };

function view(row: Row): PublisherView {
  return { id: row.id, name: row.name, namespaces: row.namespaces.map((n) => n.namespace).sort(), createdAt: row.createdAt, disabledAt: row.disabledAt };
}

export class PublisherService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly clock: Clock,
  ) {}

  async create(input: { name: string; namespaces: string[] }, actor: string): Promise<PublisherView> {
    const errors: ErrorDetail[] = [];
    if (!PUBLISHER_NAME.test(input.name)) errors.push({ path: 'name', message: 'must be lowercase [a-z0-9._-], 1 to 64 characters, starting and ending with a letter or digit' });
    input.namespaces.forEach((ns, i) => {
      if (!isNamespace(ns)) errors.push({ path: `namespaces[${i}]`, message: 'must be lowercase [a-z0-9._-], 1 to 64 characters, starting and ending with a letter or digit', value: ns });
    });
    if (errors.length > 0) throw new ModelsignError(errors[0]!.path === 'name' ? 'validation_failed' : 'invalid_namespace', `${errors[0]!.path} ${errors[0]!.message}`, errors);
    const namespaces = [...new Set(input.namespaces)];
    try {
      return await this.prisma.$transaction(async (tx) => {
        if (await tx.publisher.findUnique({ where: { name: input.name }, select: { id: true } })) {
          throw new ModelsignError('publisher_exists', `a publisher named ${JSON.stringify(input.name)} already exists`);
        }
        const taken = await tx.publisherNamespace.findMany({ where: { namespace: { in: namespaces } }, select: { namespace: true } });
        if (taken.length > 0) throw this.namespaceTaken(taken.map((t) => t.namespace));
        const now = this.clock.now();
        const row = await tx.publisher.create({
          data: { id: randomUUID(), name: input.name, createdAt: now, namespaces: { create: namespaces.map((namespace) => ({ namespace })) } },
          select: SELECT,
        });
        await recordAudit(tx, { actor, action: 'publisher.create', target: `publisher:${row.name}`, details: { id: row.id, namespaces }, at: now });
        await bumpStateEpoch(tx);
        return view(row);
      });
    } catch (err) {
      // Two creations racing past the checks above: the constraints decide, we explain.
      if (!isUniqueViolation(err)) throw err;
      const taken = await this.prisma.publisherNamespace.findMany({ where: { namespace: { in: namespaces } }, select: { namespace: true } });
      if (taken.length > 0) throw this.namespaceTaken(taken.map((t) => t.namespace));
      throw new ModelsignError('publisher_exists', `a publisher named ${JSON.stringify(input.name)} already exists`);
    }
  }

  async list(): Promise<PublisherView[]> {
    const rows = await this.prisma.publisher.findMany({ select: SELECT, orderBy: { createdAt: 'asc' } });
    return rows.map(view);
  }

  /** By id or by name. */
  async find(idOrName: string): Promise<PublisherView | undefined> {
    const row = await this.prisma.publisher.findUnique({ where: isUuid(idOrName) ? { id: idOrName } : { name: idOrName }, select: SELECT });
    return row ? view(row) : undefined;
  }

  /**
   * Disables or re-enables a publisher and/or replaces its namespaces. Disabling refuses its
   * tokens from the next request on this instance (and within one state poll on the others).
   */
  async update(idOrName: string, input: { disabled?: boolean | undefined; namespaces?: string[] | undefined }, actor: string): Promise<PublisherView> {
    if (input.namespaces !== undefined) {
      const bad = input.namespaces.map((ns, i) => [ns, i] as const).filter(([ns]) => !isNamespace(ns));
      if (bad.length > 0) {
        throw new ModelsignError(
          'invalid_namespace',
          `namespaces[${bad[0]![1]}] must be lowercase [a-z0-9._-], 1 to 64 characters, starting and ending with a letter or digit`,
          bad.map(([ns, i]) => ({ path: `namespaces[${i}]`, message: 'invalid namespace', value: ns })),
        );
      }
    }
    const current = await this.find(idOrName);
    if (!current) throw new ModelsignError('publisher_unknown', `no publisher ${JSON.stringify(idOrName)}`);
    const namespaces = input.namespaces === undefined ? undefined : [...new Set(input.namespaces)];
    try {
      return await this.prisma.$transaction(async (tx) => {
        const now = this.clock.now();
        if (namespaces !== undefined) {
          const taken = await tx.publisherNamespace.findMany({ where: { namespace: { in: namespaces }, NOT: { publisherId: current.id } }, select: { namespace: true } });
          if (taken.length > 0) throw this.namespaceTaken(taken.map((t) => t.namespace));
          await tx.publisherNamespace.deleteMany({ where: { publisherId: current.id, namespace: { notIn: namespaces } } });
          await tx.publisherNamespace.createMany({ data: namespaces.map((namespace) => ({ namespace, publisherId: current.id })), skipDuplicates: true });
        }
        const disabledAt = input.disabled === undefined ? current.disabledAt : input.disabled ? (current.disabledAt ?? now) : null;
        const row = await tx.publisher.update({ where: { id: current.id }, data: { disabledAt }, select: SELECT });
        await recordAudit(tx, {
          actor,
          action: 'publisher.update',
          target: `publisher:${current.name}`,
          details: {
            id: current.id,
            ...(input.disabled !== undefined ? { disabled: input.disabled } : {}),
            ...(namespaces !== undefined ? { namespaces, previousNamespaces: current.namespaces } : {}),
          },
          at: now,
        });
        await bumpStateEpoch(tx);
        return view(row);
      });
    } catch (err) {
      if (!isUniqueViolation(err) || namespaces === undefined) throw err;
      throw this.namespaceTaken(namespaces);
    }
  }

  private namespaceTaken(namespaces: string[]): ModelsignError {
    return new ModelsignError(
      'namespace_taken',
      `namespace${namespaces.length > 1 ? 's' : ''} ${namespaces.map((n) => JSON.stringify(n)).join(', ')} already belong${namespaces.length > 1 ? '' : 's'} to another publisher`,
      namespaces.map((n) => ({ path: 'namespaces', message: 'taken', value: n })),
    );
  }
}
