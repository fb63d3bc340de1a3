import type { IDisposable } from '@lumino/disposable';
import { PromiseDelegate } from '@lumino/coreutils';

import type { IEventsClient } from './tokens';

/**
 * A bounded, durable queue of events waiting to be sent.
 *
 * The queue lives in memory, so that pushing an event costs next to nothing,
 * and is mirrored in IndexedDB a few milliseconds later: the events pushed
 * meanwhile are written as one *chunk* (one record, not one per event), and events
 * removed from the front of a chunk are recorded as that chunk's progress (a
 * number), so that sending a batch costs one small write, not one per event.
 * Events pushed in an earlier page load (or by another tab on the same
 * server) are loaded when the queue opens. When the queue is full, the oldest
 * events are dropped and counted.
 */
export class EventQueue implements IDisposable {
  /**
   * Open a queue.
   */
  constructor(options: EventQueue.IOptions) {
    this._bound = Math.max(1, options.bound ?? EventQueue.DEFAULT_BOUND);
    const factory =
      options.indexedDB === undefined
        ? typeof indexedDB === 'undefined'
          ? null
          : indexedDB
        : options.indexedDB;
    this._ready = this._open(factory, options.name);
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
   * Whether the queue is backed by IndexedDB (false when the browser offers none).
   */
  get isDurable(): boolean {
    return this._db !== null;
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
   * How many events were dropped because the queue was full.
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
   * Whether the queue is disposed.
   */
  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Add an event at the end of the queue, dropping the oldest when full.
   *
   * @returns a promise that resolves once the event is stored durably (at
   *   once when the queue has no database)
   */
  push(record: IEventsClient.IRecord): Promise<void> {
    let chunk = this._pending;
    if (!chunk) {
      chunk = this._pending = Private.chunk(this._nextKey());
    }
    chunk.ids.push(record.id);
    this._records.set(record.id, record);
    this._chunkOf.set(record.id, chunk);
    this._trim();
    return this._schedule();
  }

  /**
   * The oldest events, without removing them.
   */
  peek(count: number): IEventsClient.IRecord[] {
    const records: IEventsClient.IRecord[] = [];
    for (const record of this._records.values()) {
      if (records.length >= count) {
        break;
      }
      records.push(record);
    }
    return records;
  }

  /**
   * Remove events (those the server has, or refused for good).
   */
  remove(ids: Iterable<string>): Promise<void> {
    for (const id of ids) {
      this._remove(id);
    }
    return this._schedule();
  }

  /**
   * Close the database. Events not yet written stay in memory only.
   */
  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._db?.close();
    this._db = null;
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
    if (chunk !== this._pending) {
      this._changed.add(chunk);
    }
    return true;
  }

  /**
   * Drop the oldest events beyond the bound.
   */
  private _trim(): void {
    let excess = this._records.size - this._bound;
    if (excess <= 0) {
      return;
    }
    const dropped: string[] = [];
    for (const id of this._records.keys()) {
      if (excess-- <= 0) {
        break;
      }
      dropped.push(id);
    }
    for (const id of dropped) {
      this._remove(id);
    }
    this._dropped += dropped.length;
    void this._schedule();
  }

  /**
   * Write what waits to be written now, rather than at the end of the short
   * delay that gathers writes (for a page that is going away).
   */
  persist(): Promise<void> {
    const written = this._schedule();
    clearTimeout(this._timer);
    this._timer = undefined;
    this._flush?.();
    return written;
  }

  /**
   * Write what changed in the next few milliseconds in one transaction: a
   * transaction costs far more than a record, and actions come in bursts.
   */
  private _schedule(): Promise<void> {
    if (!this._written) {
      const written = (this._written = new PromiseDelegate<void>());
      const delay = new Promise<void>(resolve => {
        this._flush = resolve;
        this._timer = setTimeout(resolve, Private.WRITE_DELAY);
      });
      void Promise.all([this._ready, delay])
        .then(() => this._write())
        .then(
          () => written.resolve(),
          reason => {
            // The events stay in memory: they will still be sent from this page.
            console.warn('jupyter-events-ext: cannot store events', reason);
            written.resolve();
          }
        );
    }
    return this._written.promise;
  }

  private _write(): Promise<void> {
    this._written = null;
    this._flush = null;
    const pending = this._pending;
    this._pending = null;
    const changed = [...this._changed];
    this._changed.clear();
    const db = this._db;
    if (!db) {
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const transaction = db.transaction(
        [Private.CHUNKS, Private.PROGRESS],
        'readwrite'
      );
      const chunks = transaction.objectStore(Private.CHUNKS);
      const progress = transaction.objectStore(Private.PROGRESS);
      if (pending) {
        this._store(chunks, pending);
      }
      for (const chunk of changed) {
        if (chunk.removed === chunk.ids.length) {
          chunks.delete(chunk.key);
          progress.delete(chunk.key);
        } else if (chunk.removed === chunk.skip) {
          // Removed from the front only (as delivery does): note how many.
          progress.put({ key: chunk.key, skip: chunk.skip });
        } else {
          // Removed from the middle: write what is left.
          this._store(chunks, chunk);
          progress.delete(chunk.key);
        }
      }
      transaction.oncomplete = () => resolve();
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  }

  /**
   * Write a chunk with the events of it that still wait.
   */
  private _store(store: IDBObjectStore, chunk: Private.IChunk): void {
    const records: IEventsClient.IRecord[] = [];
    for (const id of chunk.ids) {
      const record = this._records.get(id);
      if (record) {
        records.push(record);
      }
    }
    chunk.ids = records.map(record => record.id);
    chunk.skip = chunk.removed = 0;
    if (records.length) {
      store.put({ key: chunk.key, records });
    }
  }

  private _nextKey(): Private.ChunkKey {
    // Ordered by time, unique across the tabs that share the database.
    return [Date.now(), Private.TAB, this._sequence++];
  }

  private async _open(factory: IDBFactory | null, name: string): Promise<void> {
    if (!factory) {
      return;
    }
    let db: IDBDatabase;
    let stored: Private.IStoredChunk[];
    let skips: Map<string, number>;
    try {
      db = await Private.openDatabase(factory, name);
      [stored, skips] = await Private.readAll(db);
    } catch (reason) {
      console.warn(
        'jupyter-events-ext: IndexedDB is unavailable; waiting events are kept in memory only.',
        reason
      );
      return;
    }
    if (this._isDisposed) {
      db.close();
      return;
    }
    // Another version of the page asks to upgrade the database: let it.
    db.onversionchange = () => {
      db.close();
      this._db = null;
    };
    // The stored events are older than those pushed while the database opened.
    const records = new Map<string, IEventsClient.IRecord>();
    for (const { key, records: chunkRecords } of stored) {
      const chunk = Private.chunk(key);
      chunk.ids = chunkRecords.map(record => record.id);
      chunk.skip = chunk.removed = skips.get(JSON.stringify(key)) ?? 0;
      for (const record of chunkRecords.slice(chunk.skip)) {
        records.set(record.id, record);
        this._chunkOf.set(record.id, chunk);
      }
    }
    for (const [id, record] of this._records) {
      records.set(id, record);
    }
    this._records = records;
    this._db = db;
    this._trim();
  }

  private _bound: number;
  private _changed = new Set<Private.IChunk>();
  private _chunkOf = new Map<string, Private.IChunk>();
  private _db: IDBDatabase | null = null;
  private _dropped = 0;
  private _flush: (() => void) | null = null;
  private _isDisposed = false;
  private _pending: Private.IChunk | null = null;
  private _ready: Promise<void>;
  private _records = new Map<string, IEventsClient.IRecord>();
  private _sequence = 0;
  private _timer: ReturnType<typeof setTimeout> | undefined = undefined;
  private _written: PromiseDelegate<void> | null = null;
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
  }
}

namespace Private {
  /**
   * The object store of chunks: `{key, records}`.
   */
  export const CHUNKS = 'chunks';

  /**
   * The object store of how many events of a chunk were sent: `{key, skip}`.
   */
  export const PROGRESS = 'progress';

  /**
   * Milliseconds over which writes are gathered into one transaction.
   */
  export const WRITE_DELAY = 50;

  /**
   * This page, among the tabs that share the database.
   */
  export const TAB = Math.random();

  export type ChunkKey = [number, number, number];

  /**
   * The events pushed in one task, as they are stored.
   */
  export interface IChunk {
    key: ChunkKey;
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
  }

  export interface IStoredChunk {
    key: ChunkKey;
    records: IEventsClient.IRecord[];
  }

  export function chunk(key: ChunkKey): IChunk {
    return { key, ids: [], skip: 0, removed: 0 };
  }

  /**
   * Open (creating on first use) the database.
   */
  export function openDatabase(
    factory: IDBFactory,
    name: string
  ): Promise<IDBDatabase> {
    return new Promise((resolve, reject) => {
      const request = factory.open(name, 1);
      request.onupgradeneeded = () => {
        request.result.createObjectStore(CHUNKS, { keyPath: 'key' });
        request.result.createObjectStore(PROGRESS, { keyPath: 'key' });
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
      request.onblocked = () =>
        reject(new Error(`The database "${name}" is blocked by another tab.`));
    });
  }

  /**
   * Every stored chunk, oldest first, and the progress of each.
   */
  export function readAll(
    db: IDBDatabase
  ): Promise<[IStoredChunk[], Map<string, number>]> {
    return new Promise((resolve, reject) => {
      const transaction = db.transaction([CHUNKS, PROGRESS], 'readonly');
      const chunks = transaction.objectStore(CHUNKS).getAll();
      const progress = transaction.objectStore(PROGRESS).getAll();
      transaction.oncomplete = () =>
        resolve([
          chunks.result as IStoredChunk[],
          new Map(
            (progress.result as { key: ChunkKey; skip: number }[]).map(
              ({ key, skip }) => [JSON.stringify(key), skip]
            )
          )
        ]);
      transaction.onerror = () => reject(transaction.error);
    });
  }
}
