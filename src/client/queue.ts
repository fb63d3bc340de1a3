import type { IDisposable } from '@lumino/disposable';
import { PromiseDelegate } from '@lumino/coreutils';
import { type ISignal, Signal } from '@lumino/signaling';

import { ChunkStore } from './store';
import { TabLock } from './tabs';
import type { IEventsClient } from '../tokens';

/**
 * A bounded, durable queue of events waiting to be sent.
 *
 * The queue lives in memory, so that pushing an event costs next to nothing,
 * and is mirrored in IndexedDB a few milliseconds later: the events pushed
 * meanwhile are written as one *chunk* (one record, not one per event), and events
 * removed from the front of a chunk are recorded as that chunk's progress (a
 * number), so that sending a batch costs one small write, not one per event.
 *
 * Tabs on the same server share the database, not their chunks: each chunk
 * belongs to the tab that wrote it, which alone writes and sends it. The
 * chunks of a tab that closed or crashed (a reload included) are taken over,
 * when the queue opens and every few seconds after, by exactly one tab.
 *
 * A write that fails is retried; when storage is full the oldest events are
 * dropped and counted. When events cannot be written at all, `isDurable` says
 * so and `push` resolves with `false`.
 */
export class EventQueue implements IDisposable {
  /**
   * Open a queue.
   */
  constructor(options: EventQueue.IOptions) {
    this._bound = Math.max(1, options.bound ?? EventQueue.DEFAULT_BOUND);
    this._factory =
      options.indexedDB === undefined
        ? typeof indexedDB === 'undefined'
          ? null
          : indexedDB
        : options.indexedDB;
    this._name = options.name;
    this._adoptInterval = options.adoptInterval ?? Private.ADOPT_INTERVAL;
    this._tab = options.tab ?? new TabLock({ name: options.name });
    this._ownsTab = !options.tab;
    this._durable = this._factory !== null;
    this._ready = this._open();
  }

  /**
   * The default number of events the queue holds.
   */
  static readonly DEFAULT_BOUND = 10000;

  /**
   * A promise that resolves once the events stored earlier are loaded.
   */
  get ready(): Promise<void> {
    return this._ready;
  }

  /**
   * This tab among those that share the queue.
   */
  get tab(): TabLock {
    return this._tab;
  }

  /**
   * Whether the events are stored in IndexedDB: false when the browser offers
   * none, or while writing fails; they are then in memory only.
   */
  get isDurable(): boolean {
    return this._durable;
  }

  /**
   * How many events the queue holds at most.
   */
  get bound(): number {
    return this._bound;
  }
  set bound(value: number) {
    this._bound = Math.max(1, Math.floor(value));
    this._trim();
  }

  /**
   * How many events were dropped because the queue or the storage was full.
   */
  get dropped(): number {
    return this._dropped;
  }

  /**
   * How many events wait.
   */
  get size(): number {
    return this._records.size;
  }

  /**
   * A signal emitted when the queue changes by itself: events taken over
   * from a closed tab, events dropped, durability lost or regained.
   */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /**
   * A signal emitted with how many events were taken over from tabs that
   * closed (also signalled by `changed`).
   */
  get adopted(): ISignal<this, number> {
    return this._adopted;
  }

  /**
   * Whether the queue is disposed.
   */
  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Add an event at the end of the queue, dropping the oldest when full.
   *
   * @returns a promise that resolves with `true` once the event is stored
   *   durably, or with `false` when it is kept in memory only
   */
  push(record: IEventsClient.IRecord): Promise<boolean> {
    let chunk = this._pending;
    if (!chunk) {
      chunk = this._pending = Private.chunk(this._nextKey(), false);
      this._chunks.add(chunk);
      this._dirty.add(chunk);
    }
    chunk.ids.push(record.id);
    this._records.set(record.id, record);
    this._chunkOf.set(record.id, chunk);
    this._trim();
    return this._schedule();
  }

  /**
   * The oldest events, without removing them.
   *
   * @param count - how many at most
   * @param except - ids to pass over (those already being sent)
   */
  peek(count: number, except?: ReadonlySet<string>): IEventsClient.IRecord[] {
    const records: IEventsClient.IRecord[] = [];
    for (const record of this._records.values()) {
      if (records.length >= count) {
        break;
      }
      if (!except?.has(record.id)) {
        records.push(record);
      }
    }
    return records;
  }

  /**
   * Remove events (those the server has, or refused for good).
   *
   * @returns a promise that resolves with whether the removal is stored
   */
  remove(ids: Iterable<string>): Promise<boolean> {
    for (const id of ids) {
      this._remove(id);
    }
    return this._schedule();
  }

  /**
   * Write what waits to be written now, rather than at the end of the short
   * delay that gathers writes (for a page that is going away).
   */
  persist(): Promise<boolean> {
    const written = this._schedule();
    const next = this._next;
    if (this._store && next) {
      // Now, in this task: a page that goes away runs no later one. The
      // database runs transactions in the order they were made, so this one
      // still comes after a write in progress.
      this._next = null;
      clearTimeout(this._timer);
      this._timer = undefined;
      this._write().then(
        () => next.resolve(true),
        () => {
          next.resolve(false);
          void this._schedule();
        }
      );
    }
    return written;
  }

  /**
   * Close the database and let other tabs take over what is left. Events not
   * yet written stay in memory only.
   */
  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    clearTimeout(this._timer);
    clearTimeout(this._retryTimer);
    clearInterval(this._adoptTimer);
    this._next?.resolve(false);
    this._next = null;
    this._store?.close();
    this._store = null;
    // After the database is closed: no write of this tab can follow a takeover.
    if (this._ownsTab) {
      this._tab.dispose();
    }
    Signal.clearData(this);
  }

  private _remove(id: string): boolean {
    const chunk = this._chunkOf.get(id);
    if (!chunk || !this._records.delete(id)) {
      return false;
    }
    this._chunkOf.delete(id);
    chunk.removed++;
    while (
      chunk.skip < chunk.ids.length &&
      !this._records.has(chunk.ids[chunk.skip])
    ) {
      chunk.skip++;
    }
    this._dirty.add(chunk);
    return true;
  }

  /**
   * Drop the oldest events beyond the bound.
   */
  private _trim(): void {
    this._drop(this._records.size - this._bound);
  }

  /**
   * Drop the `count` oldest events, and count them.
   */
  private _drop(count: number): void {
    if (count <= 0) {
      return;
    }
    const dropped: string[] = [];
    for (const id of this._records.keys()) {
      if (dropped.length >= count) {
        break;
      }
      dropped.push(id);
    }
    for (const id of dropped) {
      this._remove(id);
    }
    this._dropped += dropped.length;
    this._emitChanged();
    void this._schedule();
  }

  /**
   * Write what changed in the next few milliseconds in one transaction: a
   * transaction costs far more than a record, and actions come in bursts.
   */
  private _schedule(): Promise<boolean> {
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
   * Write, one transaction at a time, retrying a failed one with backoff.
   */
  private async _run(): Promise<void> {
    if (this._running) {
      return; // The running loop takes what was scheduled meanwhile.
    }
    this._running = true;
    try {
      await this._ready;
      while (this._next && !this._isDisposed) {
        const next = this._next;
        this._next = null;
        clearTimeout(this._timer);
        this._timer = undefined;
        const durable = await this._writeWithRetries();
        this._setDurable(durable);
        next.resolve(durable);
      }
    } finally {
      this._running = false;
    }
  }

  private async _writeWithRetries(): Promise<boolean> {
    if (!this._factory) {
      this._dirty.clear();
      this._pending = null;
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
          this._drop(Math.ceil(this._records.size * Private.QUOTA_DROP));
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
            () => void this._schedule(),
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
   * it held are marked to be written whole next time.
   */
  private async _write(): Promise<void> {
    const store = this._store ?? (await this._reopen());
    const chunks = [...this._dirty];
    this._dirty.clear();
    this._pending = null;
    const writes: ChunkStore.IWrite[] = [];
    for (const chunk of chunks) {
      if (chunk.removed === chunk.ids.length) {
        this._chunks.delete(chunk);
        if (chunk.written) {
          writes.push({ kind: 'delete', key: chunk.key });
        }
      } else if (
        !chunk.written ||
        chunk.rewrite ||
        chunk.removed !== chunk.skip
      ) {
        // New, of unknown state, or removed from the middle: write it whole.
        writes.push({ kind: 'chunk', row: this._row(chunk) });
      } else {
        // Removed from the front only, as delivery does: note how many.
        writes.push({ kind: 'progress', key: chunk.key, skip: chunk.skip });
      }
    }
    if (!writes.length) {
      return;
    }
    try {
      await store.write(writes);
    } catch (reason) {
      for (const chunk of chunks) {
        chunk.written = chunk.rewrite = true;
        this._dirty.add(chunk);
        if (chunk.removed < chunk.ids.length) {
          this._chunks.add(chunk);
        }
      }
      throw reason;
    }
  }

  /**
   * A chunk as stored, with the events of it that still wait.
   */
  private _row(chunk: Private.IChunk): ChunkStore.IRow {
    const records: IEventsClient.IRecord[] = [];
    for (const id of chunk.ids) {
      const record = this._records.get(id);
      if (record) {
        records.push(record);
      }
    }
    chunk.ids = records.map(record => record.id);
    chunk.skip = chunk.removed = 0;
    chunk.written = true;
    chunk.rewrite = false;
    return { key: chunk.key, owner: this._tab.id, records };
  }

  private _nextKey(): ChunkStore.Key {
    return [Date.now(), this._tab.id, this._sequence++];
  }

  private async _open(): Promise<void> {
    if (!this._factory) {
      return;
    }
    try {
      await this._tab.ready;
      const store = await ChunkStore.open(this._factory, this._name);
      if (this._isDisposed) {
        store.close();
        return;
      }
      this._useStore(store);
      const others = await store.cleanUp(this._tab.id);
      await this._adopt(others);
    } catch (reason) {
      console.warn(
        'jupyter-events-ext: IndexedDB is unavailable; waiting events are kept in memory only.',
        reason
      );
      this._setDurable(false);
      return;
    }
    if (this._tab.isShared && !this._isDisposed) {
      // Tabs close at any time: look for their events now and then.
      this._adoptTimer = setInterval(() => {
        const store = this._store;
        if (store) {
          void store
            .owners(this._tab.id)
            .then(owners => this._adopt(owners))
            .catch(() => undefined);
        }
      }, this._adoptInterval);
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
    this._useStore(store);
    for (const chunk of this._chunks) {
      chunk.rewrite = true;
      this._dirty.add(chunk);
    }
    return store;
  }

  private _useStore(store: ChunkStore): void {
    this._store = store;
    store.onClose = () => {
      if (this._store === store) {
        this._store = null;
        this._setDurable(false);
        void this._schedule();
      }
    };
  }

  /**
   * Take over the chunks of the tabs that are gone, and put their events
   * before the newer ones, in the order they were written.
   */
  private async _adopt(owners: string[]): Promise<void> {
    const taken: ChunkStore.IChunk[] = [];
    for (const owner of owners) {
      const store = this._store;
      if (!store || this._isDisposed) {
        return;
      }
      taken.push(
        ...((await this._tab.adopt(owner, () =>
          store.take(owner, this._tab.id)
        )) ?? [])
      );
    }
    if (!taken.length || this._isDisposed) {
      return;
    }
    const adopted = new Map<string, IEventsClient.IRecord>();
    for (const stored of taken) {
      const chunk = Private.chunk(stored.key, true);
      chunk.ids = stored.records.map(record => record.id);
      chunk.skip = chunk.removed = stored.skip;
      const records = stored.records.slice(stored.skip);
      for (const record of records) {
        if (!this._records.has(record.id)) {
          adopted.set(record.id, record);
          this._chunkOf.set(record.id, chunk);
        }
      }
      this._chunks.add(chunk);
    }
    const order = [...this._chunks].sort((a, b) =>
      Private.compareKeys(a.key, b.key)
    );
    const records = new Map<string, IEventsClient.IRecord>();
    for (const chunk of order) {
      for (const id of chunk.ids.slice(chunk.skip)) {
        const record = this._records.get(id) ?? adopted.get(id);
        if (record && this._chunkOf.get(id) === chunk) {
          records.set(id, record);
        }
      }
    }
    this._records = records;
    this._trim();
    this._emitChanged();
    if (!this._isDisposed) {
      this._adopted.emit(adopted.size);
    }
  }

  private _setDurable(durable: boolean): void {
    if (this._durable !== durable) {
      this._durable = durable;
      this._emitChanged();
    }
  }

  private _emitChanged(): void {
    if (!this._isDisposed) {
      this._changed.emit();
    }
  }

  private _adoptInterval: number;
  private _adopted = new Signal<this, number>(this);
  private _adoptTimer: ReturnType<typeof setInterval> | undefined = undefined;
  private _bound: number;
  private _changed = new Signal<this, void>(this);
  private _chunkOf = new Map<string, Private.IChunk>();
  /**
   * The chunks that hold waiting events, or whose removal is not stored yet.
   */
  private _chunks = new Set<Private.IChunk>();
  /**
   * The chunks whose stored form is behind.
   */
  private _dirty = new Set<Private.IChunk>();
  private _dropped = 0;
  private _durable: boolean;
  private _factory: IDBFactory | null;
  private _isDisposed = false;
  private _name: string;
  private _next: PromiseDelegate<boolean> | null = null;
  private _ownsTab: boolean;
  private _pending: Private.IChunk | null = null;
  private _ready: Promise<void>;
  private _records = new Map<string, IEventsClient.IRecord>();
  private _retryTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  private _running = false;
  private _sequence = 0;
  private _store: ChunkStore | null = null;
  private _tab: TabLock;
  private _timer: ReturnType<typeof setTimeout> | undefined = undefined;
  private _warned = false;
}

/**
 * The statics of the event queue.
 */
export namespace EventQueue {
  /**
   * The options of a queue.
   */
  export interface IOptions {
    /**
     * The IndexedDB database name; one per server.
     */
    name: string;
    /**
     * How many events the queue holds at most.
     */
    bound?: number;
    /**
     * The IndexedDB factory; the browser's by default, `null` for a queue in
     * memory only.
     */
    indexedDB?: IDBFactory | null;
    /**
     * This tab's lock; a new one on the database's name by default (the
     * queue then releases it when disposed).
     */
    tab?: TabLock;
    /**
     * Milliseconds between looks for the events of tabs that closed (1000
     * by default).
     */
    adoptInterval?: number;
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

  /**
   * The share of the waiting events dropped, oldest first, when storage is full.
   */
  export const QUOTA_DROP = 0.1;

  /**
   * Milliseconds between looks for the events of closed tabs: a tab that
   * goes away may write its last chunk after the next page opened. A look
   * reads the distinct owners from an index, which costs next to nothing.
   */
  export const ADOPT_INTERVAL = 1000;

  /**
   * A chunk of events, as the queue keeps track of it.
   */
  export interface IChunk {
    key: ChunkStore.Key;
    /**
     * The ids of the chunk's events, in order, as stored.
     */
    ids: string[];
    /**
     * How many events at the front of `ids` were removed.
     */
    skip: number;
    /**
     * How many events of `ids` were removed.
     */
    removed: number;
    /**
     * Whether the database may hold the chunk.
     */
    written: boolean;
    /**
     * Whether what the database holds is unknown: write it whole.
     */
    rewrite: boolean;
  }

  export function chunk(key: ChunkStore.Key, written: boolean): IChunk {
    return { key, ids: [], skip: 0, removed: 0, written, rewrite: false };
  }

  /**
   * Chunk keys in time order; the tab part is a number in chunks written
   * before tabs owned them.
   */
  export function compareKeys(a: ChunkStore.Key, b: ChunkStore.Key): number {
    return (
      a[0] - b[0] || String(a[1]).localeCompare(String(b[1])) || a[2] - b[2]
    );
  }

  export function isQuotaError(reason: unknown): boolean {
    return (
      typeof reason === 'object' &&
      reason !== null &&
      (reason as { name?: string }).name === 'QuotaExceededError'
    );
  }
}
