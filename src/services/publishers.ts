// Publishers: release pipelines allowed to sign under the namespaces they own. Ownership is
// exclusive (one row per namespace), so no two publishers can sign the same model name.
import { randomUUID } from 'node:crypto';
import type { AlgorithmId } from '../core/crypto/algorithm.ts';
import { ALGORITHM_NAMES, algorithmNamed } from '../core/crypto/registry.ts';
import { ModelsignError, type ErrorDetail } from '../core/errors.ts';
import { isUuid } from '../core/ids.ts';
import { isNamespace, NAME_RULE, offendingCharacter, PUBLISHER_NAME_PATTERN } from '../core/release-name.ts';
import { recordAudit } from '../db/audit-store.ts';
import type { Database } from '../db/client.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { findPublisher, insertPublisher, listPublishers, replaceNamespaces, setPublisherDisabledAt, setSigningAlgorithms, takenNamespaces } from '../db/publisher-store.ts';
import type { PublisherRecord } from '../core/publisher.ts';
import { bumpStateEpoch } from '../db/state-epoch.ts';
import type { Clock } from './support/clock.ts';
import type { StateChanges } from './state-changes.ts';

const PUBLISHER_NAME = new RegExp(PUBLISHER_NAME_PATTERN);

export class PublisherService {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly changes: StateChanges,
  ) {}

  async create(input: { name: string; namespaces: string[] }, actor: string): Promise<PublisherRecord> {
    const errors: ErrorDetail[] = [];
    if (!PUBLISHER_NAME.test(input.name)) errors.push({ path: 'name', message: `must be ${NAME_RULE}${offendingCharacter(input.name)}` });
    input.namespaces.forEach((ns, i) => {
      if (!isNamespace(ns)) errors.push({ path: `namespaces[${i}]`, message: `must be ${NAME_RULE}${offendingCharacter(ns)}`, value: ns });
    });
    if (errors.length > 0) throw new ModelsignError(errors[0]!.path === 'name' ? 'validation_failed' : 'invalid_namespace', `${errors[0]!.path} ${errors[0]!.message}`, errors);
    const namespaces = [...new Set(input.namespaces)];
    try {
      const created = await this.db.prismaTransaction(async (tx) => {
        if (await findPublisher(tx, { name: input.name })) throw new ModelsignError('publisher_exists', `a publisher named ${JSON.stringify(input.name)} already exists`);
        const taken = await takenNamespaces(tx, namespaces);
        if (taken.length > 0) throw namespaceTaken(taken);
        const now = this.clock.now();
        const row = await insertPublisher(tx, { id: randomUUID(), name: input.name, namespaces, createdAt: now });
        await recordAudit(tx, { actor, action: 'publisher.create', target: `publisher:${row.name}`, details: { id: row.id, namespaces }, at: now });
        await bumpStateEpoch(tx);
        return row;
      });
      // This instance stops honouring what changed at once (others within a state poll).
      await this.changes.publish({ what: 'publishers' });
      return created;
    } catch (err) {
      // Two creations racing past the checks above: the constraints decide, we explain.
      if (!isUniqueViolation(err)) throw err;
      const taken = await takenNamespaces(this.db.prisma, namespaces);
      if (taken.length > 0) throw namespaceTaken(taken);
      throw new ModelsignError('publisher_exists', `a publisher named ${JSON.stringify(input.name)} already exists`);
    }
  }

  async list(): Promise<PublisherRecord[]> {
    return listPublishers(this.db.prisma);
  }

  /** By id or by name. */
  async find(idOrName: string): Promise<PublisherRecord | undefined> {
    const row = await findPublisher(this.db.prisma, isUuid(idOrName) ? { id: idOrName } : { name: idOrName });
    return row;
  }

  /**
   * Disables or re-enables a publisher, replaces its namespaces, and/or sets the signing
   * algorithm of some of them (by name: `ed25519`, `ecdsa-p256`). Disabling refuses its tokens
   * from the next request on this instance (and within one state poll on the others); a new
   * algorithm signs the namespace's next release.
   */
  async update(
    idOrName: string,
    input: { disabled?: boolean | undefined; namespaces?: string[] | undefined; signingAlgorithms?: Record<string, string> | undefined },
    actor: string,
  ): Promise<PublisherRecord> {
    const algorithms: Record<string, AlgorithmId> = {};
    const bad: ErrorDetail[] = [];
    for (const [ns, name] of Object.entries(input.signingAlgorithms ?? {})) {
      const alg = algorithmNamed(name);
      if (alg) algorithms[ns] = alg.id;
      else bad.push({ path: `signingAlgorithms.${ns}`, message: `must be one of ${ALGORITHM_NAMES.join(', ')}`, value: name });
    }
    if (bad.length > 0) throw new ModelsignError('invalid_algorithm', `signingAlgorithms: ${JSON.stringify(bad[0]!.value)} is not a signing algorithm; use one of ${ALGORITHM_NAMES.join(', ')}`, bad);
    if (input.namespaces !== undefined) {
      const bad = input.namespaces.map((ns, i) => [ns, i] as const).filter(([ns]) => !isNamespace(ns));
      if (bad.length > 0) {
        throw new ModelsignError(
          'invalid_namespace',
          `namespaces[${bad[0]![1]}] must be ${NAME_RULE}${offendingCharacter(bad[0]![0])}`,
          bad.map(([ns, i]) => ({ path: `namespaces[${i}]`, message: 'invalid namespace', value: ns })),
        );
      }
    }
    const current = await this.find(idOrName);
    if (!current) throw new ModelsignError('publisher_unknown', `no publisher ${JSON.stringify(idOrName)}`);
    const namespaces = input.namespaces === undefined ? undefined : [...new Set(input.namespaces)];
    try {
      const updated = await this.db.prismaTransaction(async (tx) => {
        const now = this.clock.now();
        if (namespaces !== undefined) {
          const taken = await takenNamespaces(tx, namespaces, current.id);
          if (taken.length > 0) throw namespaceTaken(taken);
          await replaceNamespaces(tx, current.id, namespaces);
        }
        const owned = namespaces ?? current.namespaces;
        const foreign = Object.keys(algorithms).filter((ns) => !owned.includes(ns));
        if (foreign.length > 0) {
          throw new ModelsignError(
            'invalid_namespace',
            `signingAlgorithms names ${foreign.map((n) => JSON.stringify(n)).join(', ')}, not a namespace of ${current.name}`,
            foreign.map((n) => ({ path: `signingAlgorithms.${n}`, message: 'not a namespace of this publisher', value: n })),
          );
        }
        if (Object.keys(algorithms).length > 0) await setSigningAlgorithms(tx, current.id, algorithms);
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
            ...(Object.keys(algorithms).length > 0
              ? { signingAlgorithms: Object.fromEntries(Object.keys(algorithms).map((ns) => [ns, input.signingAlgorithms![ns]])), previousSigningAlgorithms: current.signingAlgorithms }
              : {}),
          },
          at: now,
        });
        await bumpStateEpoch(tx);
        return row;
      });
      // This instance stops honouring what changed at once (others within a state poll).
      await this.changes.publish({ what: 'publishers' });
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
