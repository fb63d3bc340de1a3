import type { IDisposable } from '@lumino/disposable';
import { PromiseDelegate, UUID } from '@lumino/coreutils';

/**
 * This tab's place among the tabs that share one queue, through the Web Locks
 * API (`navigator.locks`).
 *
 * Each tab holds a lock named after its id for as long as it lives; the
 * browser releases it when the tab closes or crashes. So the events of a tab
 * whose lock is free belong to nobody, and another tab may take them over
 * while it holds that lock. One more lock, per queue, lets one tab at a time
 * send.
 *
 * Without Web Locks (an insecure context, an old browser) a tab cannot tell a
 * closed tab from a live one: `isShared` is false and every tab is treated as
 * gone once this one opens (see `adopt`).
 */
export class TabLock implements IDisposable {
  /**
   * Take this tab's lock.
   */
  constructor(options: TabLock.IOptions) {
    this._name = options.name;
    this.id = options.id ?? UUID.uuid4();
    this._locks =
      options.locks === undefined
        ? typeof navigator !== 'undefined' && navigator.locks
          ? navigator.locks
          : null
        : options.locks;
    if (!this._locks) {
      this._held.resolve();
      return;
    }
    // Held until disposed, or until the browser drops the tab.
    void this._locks
      .request(this._lockName(this.id), () => {
        this._held.resolve();
        return this._released.promise;
      })
      .catch(reason => this._held.reject(reason));
  }

  /**
   * This tab's id, unique among every tab there ever was.
   */
  readonly id: string;

  /**
   * Whether the browser has Web Locks, so that tabs can tell who is alive.
   */
  get isShared(): boolean {
    return this._locks !== null;
  }

  /**
   * A promise that resolves once this tab holds its lock.
   */
  get ready(): Promise<void> {
    return this._held.promise;
  }

  /**
   * Whether the lock is released.
   */
  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Run `fn` while holding another tab's lock: only possible when that tab is
   * gone, and then no other tab can run it for the same owner meanwhile.
   *
   * @returns what `fn` returns, or `null` when the owner is alive (or when
   *   there are no Web Locks and `fn` ran without a lock)
   */
  async adopt<T>(owner: string, fn: () => Promise<T>): Promise<T | null> {
    if (owner === this.id || this._isDisposed) {
      return null;
    }
    if (!this._locks) {
      return fn();
    }
    let ran = false;
    const result = await this._locks.request(
      this._lockName(owner),
      { ifAvailable: true },
      async lock => {
        if (lock === null) {
          return null;
        }
        ran = true;
        return fn();
      }
    );
    return ran ? (result as T) : null;
  }

  /**
   * Run `fn` as the one tab that sends; other tabs wait their turn.
   */
  send<T>(fn: () => Promise<T>): Promise<T> {
    if (!this._locks) {
      return fn();
    }
    return this._locks.request(`${this._name} send`, () => fn());
  }

  /**
   * Release the lock: other tabs may then take over this tab's events.
   */
  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._released.resolve();
  }

  private _lockName(owner: string): string {
    return `${this._name} tab ${owner}`;
  }

  private _held = new PromiseDelegate<void>();
  private _isDisposed = false;
  private _locks: LockManager | null;
  private _name: string;
  private _released = new PromiseDelegate<void>();
}

/**
 * The statics of the tab lock.
 */
export namespace TabLock {
  /**
   * The options of a tab lock.
   */
  export interface IOptions {
    /**
     * The name of what the tabs share (the queue's database).
     */
    name: string;
    /**
     * The tab's id; a new random one by default.
     */
    id?: string;
    /**
     * The lock manager; `navigator.locks` by default, `null` for none.
     */
    locks?: LockManager | null;
  }
}
