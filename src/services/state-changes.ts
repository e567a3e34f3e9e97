// "Something changed", said one way. A service publishes what it changed once its transaction has
// committed; the state watcher publishes `elsewhere` when another instance moved the state epoch
// (it cannot know what changed there). The composition root subscribes once and decides which
// caches each change empties (src/app/create-services.ts), as Vault's transit backend has one
// `invalidate(key)` that switches on what changed.

export type StateChanged =
  /** A key was created, rotated, revoked or retired (here: after the keys were reloaded). */
  | { what: 'keys' }
  /** A publisher was created, disabled, enabled, or its namespaces or algorithms changed. */
  | { what: 'publishers' }
  /** A token was revoked. */
  | { what: 'tokens' }
  /** An OIDC issuer or a trusted-publisher rule was added or removed. */
  | { what: 'trusted-publishing' }
  /** Another instance changed something. */
  | { what: 'elsewhere' };

export class StateChanges {
  private listener: ((change: StateChanged) => void | Promise<void>) | undefined;

  /** The one subscriber (the composition root); a second is a wiring mistake. */
  subscribe(listener: (change: StateChanged) => void | Promise<void>): void {
    if (this.listener) throw new Error('StateChanges has its subscriber already');
    this.listener = listener;
  }

  async publish(change: StateChanged): Promise<void> {
    await this.listener?.(change);
  }
}
