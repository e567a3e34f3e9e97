// Publishers: release pipelines allowed to sign under the namespaces they own. Ownership is
// exclusive (one row per namespace), so no two publishers can sign the same model name.
import { randomUUID } from 'node:crypto';
import { ModelsignError, type ErrorDetail } from '../core/errors.ts';
import { isUuid } from '../core/ids.ts';
import { isNamespace, NAME_RULE, PUBLISHER_NAME_PATTERN } from '../core/release-name.ts';
import { recordAudit } from '../db/audit-store.ts';
import type { Database } from '../db/client.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { findPublisher, insertPublisher, listPublishers, replaceNamespaces, setPublisherDisabledAt, takenNamespaces, type PublisherRow } from '../db/publisher-store.ts';
import { bumpStateEpoch } from '../db/state-epoch.ts';
import type { Clock } from './clock.ts';

export type PublisherView = PublisherRow;

const PUBLISHER_NAME = new RegExp(PUBLISHER_NAME_PATTERN);

export class PublisherService {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    /** After a change commits: this instance stops honouring what changed at once (others within a state poll). */
    private readonly onChanged: () => void = () => {},
  ) {}

  async create(input: { name: string; namespaces: string[] }, actor: string): Promise<PublisherView> {
    const errors: ErrorDetail[] = [];
    if (!PUBLISHER_NAME.test(input.name)) errors.push({ path: 'name', message: `must be ${NAME_RULE}` });
    input.namespaces.forEach((ns, i) => {
      if (!isNamespace(ns)) errors.push({ path: `namespaces[${i}]`, message: `must be ${NAME_RULE}`, value: ns });
    });
    if (errors.length > 0) throw new ModelsignError(errors[0]!.path === 'name' ? 'validation_failed' : 'invalid_namespace', `${errors[0]!.path} ${errors[0]!.message}`, errors);
    const namespaces = [...new Set(input.namespaces)];
    try {
      const created = await this.db.inTransaction(async (tx) => {
        if (await findPublisher(tx, { name: input.name })) throw new ModelsignError('publisher_exists', `a publisher named ${JSON.stringify(input.name)} already exists`);
        const taken = await takenNamespaces(tx, namespaces);
        if (taken.length > 0) throw namespaceTaken(taken);
        const now = this.clock.now();
        const row = await insertPublisher(tx, { id: randomUUID(), name: input.name, namespaces, createdAt: now });
        await recordAudit(tx, { actor, action: 'publisher.create', target: `publisher:${row.name}`, details: { id: row.id, namespaces }, at: now });
        await bumpStateEpoch(tx);
        return row;
      });
      this.onChanged();
      return created;
    } catch (err) {
      // Two creations racing past the checks above: the constraints decide, we explain.
      if (!isUniqueViolation(err)) throw err;
      const taken = await takenNamespaces(this.db.prisma, namespaces);
      if (taken.length > 0) throw namespaceTaken(taken);
      throw new ModelsignError('publisher_exists', `a publisher named ${JSON.stringify(input.name)} already exists`);
    }
  }

  async list(): Promise<PublisherView[]> {
    return listPublishers(this.db.prisma);
  }

  /** By id or by name. */
  async find(idOrName: string): Promise<PublisherView | undefined> {
    return findPublisher(this.db.prisma, isUuid(idOrName) ? { id: idOrName } : { name: idOrName });
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
          `namespaces[${bad[0]![1]}] must be ${NAME_RULE}`,
          bad.map(([ns, i]) => ({ path: `namespaces[${i}]`, message: 'invalid namespace', value: ns })),
        );
      }
    }
    const current = await this.find(idOrName);
    if (!current) throw new ModelsignError('publisher_unknown', `no publisher ${JSON.stringify(idOrName)}`);
    const namespaces = input.namespaces === undefined ? undefined : [...new Set(input.namespaces)];
    try {
      const updated = await this.db.inTransaction(async (tx) => {
        const now = this.clock.now();
        if (namespaces !== undefined) {
          const taken = await takenNamespaces(tx, namespaces, current.id);
          if (taken.length > 0) throw namespaceTaken(taken);
          await replaceNamespaces(tx, current.id, namespaces);
        }
        const disabledAt = input.disabled === undefined ? current.disabledAt : input.disabled ? (current.disabledAt ?? now) : null;
        const row = await setPublisherDisabledAt(tx, current.id, disabledAt);
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
        return row;
      });
      this.onChanged();
      return updated;
    } catch (err) {
      if (!isUniqueViolation(err) || namespaces === undefined) throw err;
      throw namespaceTaken(namespaces);
    }
  }
}

function namespaceTaken(namespaces: string[]): ModelsignError {
  return new ModelsignError(
    'namespace_taken',
    `namespace${namespaces.length > 1 ? 's' : ''} ${namespaces.map((n) => JSON.stringify(n)).join(', ')} already belong${namespaces.length > 1 ? '' : 's'} to another publisher`,
    namespaces.map((n) => ({ path: 'namespaces', message: 'taken', value: n })),
  );
}
