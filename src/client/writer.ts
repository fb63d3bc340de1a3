import { PromiseDelegate } from '@lumino/coreutils';
import type { IDisposable } from '@lumino/disposable';

import type { ChunkedRecords } from './chunks';
import { ChunkStore } from './store';

/**
 * The write-behind of the queue to IndexedDB: what changed in a few
 * milliseconds is written in one transaction (a transaction costs far more
 * than a record, and actions come in bursts), one transaction at a time. A
 * write that fails is retried with backoff; when storage is full the queue is
 * asked to drop its oldest events; when nothing can be written, `durable` is
 * false until a write succeeds.
 */
export class ChunkWriter implements IDisposable {
  constructor(options: ChunkWriter.IOptions) {
    this._factory = options.factory;
    this._name = options.name;
    this._records = options.records;
    this._opened = options.opened;
    this._onDurable = options.onDurable;
    this._onStorageFull = options.onStorageFull;
    this._durable = this._factory !== null;
  }

  /**
   * Whether what waits is stored: false without IndexedDB, or while writing
   * fails.
   */
  get durable(): boolean {
    return this._durable;
  }

  /**
   * The database, while it is open.
   */
  get store(): ChunkStore | null {
    return this._store;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Write to this database from now on. When it closes under the queue (a
   * newer page upgraded or deleted it), writes go on in memory until it is
   * opened again.
   */
  useStore(store: ChunkStore): void {
    this._store = store;
    store.onClose = () => {
      if (this._store === store) {
        this._store = null;
        this.setDurable(false);
        void this.schedule();
      }
    };
  }

  /**
   * Say whether events are stored (the queue says so to the client).
   */
  setDurable(durable: boolean): void {
    if (this._durable !== durable) {
      this._durable = durable;
      this._onDurable();
    }
  }

  /**
   * Write what changed in the next few milliseconds.
   *
   * @returns a promise that resolves with whether it is stored
   */
  schedule(): Promise<boolean> {
    if (this._isDisposed) {
      return Promise.resolve(false);
    }
    if (!this._next) {
      this._next = new PromiseDelegate<boolean>();
      this._timer = setTimeout(() => {
        this._timer = undefined;
        void this._run();
      }, Private.WRITE_DELAY);
    }
    return this._next.promise;
  }

  /**
   * Write what changed now, in this task: a page that goes away runs no
   * later one.
   */
  persist(): Promise<boolean> {
    const written = this.schedule();
    const next = this._next;
    if (this._store && next) {
      // The database runs transactions in the order they were made, so this
      // one still comes after a write in progress.
      this._next = null;
      clearTimeout(this._timer);
      this._timer = undefined;
      this._write().then(
        () => next.resolve(true),
        () => {
          next.resolve(false);
          void this.schedule();
        }
      );
    }
    return written;
  }

  /**
   * Close the database; what is not written yet stays in memory only.
   */
  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    clearTimeout(this._timer);
    clearTimeout(this._retryTimer);
    this._next?.resolve(false);
    this._next = null;
    this._store?.close();
    this._store = null;
  }

  /**
   * Write, one transaction at a time.
   */
  private async _run(): Promise<void> {
    if (this._running) {
      return; // The running loop takes what was scheduled meanwhile.
    }
    this._running = true;
    try {
      await this._opened();
      while (this._next && !this._isDisposed) {
        const next = this._next;
        this._next = null;
        clearTimeout(this._timer);
        this._timer = undefined;
        const durable = await this._writeWithRetries();
        this.setDurable(durable);
        next.resolve(durable);
      }
    } finally {
      this._running = false;
    }
  }

  private async _writeWithRetries(): Promise<boolean> {
    if (!this._factory) {
      this._records.forgetChanges();
      return false;
    }
    // Once writes fail, one attempt per change: emit should not wait for retries
    // that already failed; the retry below keeps trying.
    const attempts = this._durable ? Private.WRITE_ATTEMPTS : 1;
    for (let attempt = 0; !this._isDisposed; attempt++) {
      try {
        await this._write();
        clearTimeout(this._retryTimer);
        this._warned = false;
        return true;
      } catch (reason) {
        if (Private.isQuotaError(reason)) {
          // Make room: the oldest events go first, as when the queue is full.
          this._onStorageFull();
        }
        if (attempt + 1 >= attempts) {
          if (!this._warned) {
            this._warned = true;
            console.warn(
              'jupyter-events-ext: cannot store events; they are kept in memory only until a write succeeds.',
              reason
            );
          }
          // Try again later, even if nothing else changes.
          clearTimeout(this._retryTimer);
          this._retryTimer = setTimeout(
            () => void this.schedule(),
            Private.RETRY_LATER
          );
          return false;
        }
        await new Promise(resolve =>
          setTimeout(resolve, Private.RETRY_DELAY * 2 ** attempt)
        );
      }
    }
    return false;
  }

  /**
   * One transaction with every change since the last; on failure the chunks
   * it held are written whole next time.
   */
  private async _write(): Promise<void> {
    const store = this._store ?? (await this._reopen());
    const { chunks, writes } = this._records.takeWrites();
    if (!writes.length) {
      return;
    }
    try {
      await store.write(writes);
    } catch (reason) {
      this._records.unwritten(chunks);
      throw reason;
    }
  }

  /**
   * Open the database again after it was closed under the queue; everything
   * is written whole, since the database may have been emptied meanwhile.
   */
  private async _reopen(): Promise<ChunkStore> {
    const store = await ChunkStore.open(this._factory!, this._name);
    if (this._isDisposed) {
      store.close();
      throw new Error('The queue is disposed.');
    }
    this.useStore(store);
    this._records.rewriteAll();
    return store;
  }

  private _durable: boolean;
  private _factory: IDBFactory | null;
  private _isDisposed = false;
  private _name: string;
  private _next: PromiseDelegate<boolean> | null = null;
  private _onDurable: () => void;
  private _onStorageFull: () => void;
  private _opened: () => Promise<void>;
  private _records: ChunkedRecords;
  private _retryTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  private _running = false;
  private _store: ChunkStore | null = null;
  private _timer: ReturnType<typeof setTimeout> | undefined = undefined;
  private _warned = false;
}

export namespace ChunkWriter {
  export interface IOptions {
    /**
     * The IndexedDB factory; `null` for none (nothing is ever written).
     */
    factory: IDBFactory | null;
    /**
     * The database name.
     */
    name: string;
    /**
     * What to write.
     */
    records: ChunkedRecords;
    /**
     * Resolves once the queue opened the database (writes wait for it).
     */
    opened: () => Promise<void>;
    /**
     * Told when `durable` changes.
     */
    onDurable: () => void;
    /**
     * Told when storage is full: the queue drops its oldest events.
     */
    onStorageFull: () => void;
  }
}

namespace Private {
  /**
   * Milliseconds over which writes are gathered into one transaction.
   */
  export const WRITE_DELAY = 50;

  /**
   * Attempts at a write before saying the events are in memory only.
   */
  export const WRITE_ATTEMPTS = 5;

  /**
   * Milliseconds before the first retry of a write; doubled at each.
   */
  export const RETRY_DELAY = 50;

  /**
   * Milliseconds before writing again after every attempt failed.
   */
  export const RETRY_LATER = 10 * 1000;

  export function isQuotaError(reason: unknown): boolean {
    return (
      typeof reason === 'object' &&
      reason !== null &&
      (reason as { name?: string }).name === 'QuotaExceededError'
    );
  }
}
