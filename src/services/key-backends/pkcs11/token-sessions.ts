// Logged-in sessions on one token, lent one operation at a time (a PKCS#11 session runs one
// operation at once), and what happens when the token goes away. A return value that says the
// session, the login or the device is gone (constants.ts SESSION_LOST) marks the token
// unavailable: the caller gets key_backend_unavailable (503, Retry-After) at once, never a hang;
// the next call after RECOVER_EVERY_MS finds the token again by label (its slot number may have
// changed), opens a session and logs in. Every session opened before the loss is dropped when it
// comes back. An operation that met a lost session is tried once more on a fresh one, so a token
// that merely forgot our sessions (C_CloseAllSessions by another thread, a restarted HSM client)
// costs no request.
import { ModelsignError } from '../../../core/errors.ts';
import type { Pkcs11Module } from './binding.ts';
import { Pkcs11Error } from './binding.ts';
import { CKR, CKU, ckrName, SESSION_LOST } from './constants.ts';

/** How often a call may try to bring an unavailable token back. */
const RECOVER_EVERY_MS = 200;

export interface TokenSelector {
  label: string;
  serial?: string | undefined;
  manufacturer?: string | undefined;
}

export interface TokenEvents {
  /** The token stopped answering (once per outage), with the return value that showed it. */
  lost(reason: string): void;
  /** It answers again. */
  recovered(): void;
  /** Signatures take longer than `ms` on the event loop: they run on worker threads from now on. */
  threaded?(ms: number): void;
}

interface Session {
  handle: number;
  generation: number;
}

export class TokenUnavailable extends ModelsignError {
  constructor(reason: string) {
    super('key_backend_unavailable', `the PKCS#11 token cannot sign now (${reason}); try again after Retry-After`);
  }
}

/** The slot holding the token `selector` names; undefined when none does. */
export function findSlot(module: Pkcs11Module, selector: TokenSelector): number | undefined {
  return module.slots().find((slot) => {
    const info = module.tokenInfo(slot);
    return info.label === selector.label && (selector.serial === undefined || info.serial === selector.serial) && (selector.manufacturer === undefined || info.manufacturer === selector.manufacturer);
  });
}

export class TokenSessions {
  private idle: Session[] = [];
  private waiting: { resolve(session: Session): void; reject(err: unknown): void }[] = [];
  private open = 0;
  private generation = 0;
  private down: string | undefined;
  private lastAttempt = 0;
  private closed = false;

  constructor(
    private readonly module: Pkcs11Module,
    private readonly selector: TokenSelector,
    private slot: number,
    private readonly pin: Buffer,
    private readonly size: number,
    private readonly events: TokenEvents,
  ) {}

  /** Whether the token answered the last time it was asked. */
  available(): boolean {
    return this.down === undefined;
  }

  /** Increases whenever sessions are re-opened: object handles found before may be stale. */
  get epoch(): number {
    return this.generation;
  }

  /** Runs `fn` on a logged-in session of its own; throws TokenUnavailable while the token is away. */
  async run<T>(fn: (session: number) => T | Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const session = await this.acquire();
      let healthy = true;
      try {
        return await fn(session.handle);
      } catch (err) {
        if (!(err instanceof Pkcs11Error) || !SESSION_LOST.has(err.rv)) throw err;
        healthy = false;
        // A session from before the last recovery failing says nothing new about the token.
        if (session.generation === this.generation) this.lose(ckrName(err.rv));
        if (attempt >= 2) throw new TokenUnavailable(this.down ?? ckrName(err.rv));
      } finally {
        this.release(session, healthy);
      }
    }
  }

  /** Closes every session and forgets the login (shutdown). */
  close(): void {
    this.closed = true;
    this.generation++;
    for (const session of this.idle) this.closeQuietly(session.handle);
    this.idle = [];
  }

  private async acquire(): Promise<Session> {
    if (this.closed) throw new TokenUnavailable('the backend is closed');
    if (this.down !== undefined) this.recover();
    const session = this.idle.pop();
    if (session) return session;
    if (this.open < this.size) {
      this.open++;
      try {
        return { handle: this.openSession(), generation: this.generation };
      } catch (err) {
        this.open--;
        if (err instanceof Pkcs11Error && SESSION_LOST.has(err.rv)) {
          this.lose(ckrName(err.rv));
          throw new TokenUnavailable(ckrName(err.rv));
        }
        throw err;
      }
    }
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private release(session: Session, healthy: boolean): void {
    if (!healthy || session.generation !== this.generation || this.closed) {
      this.closeQuietly(session.handle);
      this.open--;
      // Someone waiting gets a new session of their own on the next acquire.
      const next = this.waiting.shift();
      if (next) this.acquire().then(next.resolve, next.reject);
      return;
    }
    const next = this.waiting.shift();
    if (next) next.resolve(session);
    else this.idle.push(session);
  }

  private openSession(): number {
    const handle = this.module.openSession(this.slot);
    try {
      this.module.login(handle, CKU.USER, this.pin);
    } catch (err) {
      // The login is per token and application: the other sessions already hold it.
      if (!(err instanceof Pkcs11Error && err.rv === CKR.USER_ALREADY_LOGGED_IN)) {
        this.closeQuietly(handle);
        throw err;
      }
    }
    return handle;
  }

  private lose(reason: string): void {
    this.generation++;
    for (const session of this.idle) this.closeQuietly(session.handle);
    this.open -= this.idle.length;
    this.idle = [];
    if (this.down === undefined) {
      this.down = reason;
      // The first try to come back is immediate: a token that only forgot our sessions is back
      // for the very call that found out.
      this.lastAttempt = 0;
      this.events.lost(reason);
    }
  }

  /** Tries to bring the token back (at most every RECOVER_EVERY_MS); throws TokenUnavailable while it is away. */
  private recover(): void {
    // Pacing of recovery attempts is a duration: the monotonic clock.
    const now = performance.now();
    if (now - this.lastAttempt < RECOVER_EVERY_MS) throw new TokenUnavailable(this.down!);
    this.lastAttempt = now;
    try {
      try {
        this.module.closeAllSessions(this.slot);
      } catch {
        // The slot may be gone; the token is looked up again below.
      }
      const slot = findSlot(this.module, this.selector);
      if (slot === undefined) throw new TokenUnavailable(`no token labelled "${this.selector.label}" is present`);
      this.slot = slot;
      const session = this.openSession();
      this.generation++;
      this.open++;
      this.idle.push({ handle: session, generation: this.generation });
    } catch (err) {
      if (err instanceof TokenUnavailable) throw err;
      if (err instanceof Pkcs11Error) {
        this.down = ckrName(err.rv);
        throw new TokenUnavailable(this.down);
      }
      throw err;
    }
    this.down = undefined;
    this.events.recovered();
  }

  private closeQuietly(handle: number): void {
    try {
      this.module.closeSession(handle);
    } catch {
      // Already gone with the token.
    }
  }
}
