import type { IDisposable } from '@lumino/disposable';
import { type ISignal, Signal } from '@lumino/signaling';

import type { IEventsClient } from '../tokens';
import { ChunkedRecords } from './chunks';
import { ChunkStore } from './store';
import { TabLock } from './tabs';
import { Takeover } from './takeover';
import { ChunkWriter } from './writer';

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
    const factory =
      options.indexedDB === undefined
        ? typeof indexedDB === 'undefined'
          ? null
          : indexedDB
        : options.indexedDB;
    this._tab = options.tab ?? new TabLock({ name: options.name });
    this._ownsTab = !options.tab;
    this._records = new ChunkedRecords(this._tab.id);
    this._writer = new ChunkWriter({
      factory,
      name: options.name,
      records: this._records,
      opened: () => this._ready,
      onDurable: () => this._emitChanged(),
      // Make room: the oldest events go first, as when the queue is full.
      onStorageFull: () =>
        this._drop(Math.ceil(this._records.size * Private.QUOTA_DROP))
    });
    this._takeover = new Takeover({
      tab: this._tab,
      records: this._records,
      store: () => this._writer.store,
      onAdopted: count => {
        this._trim();
        this._emitChanged();
        if (!this._isDisposed) {
          this._adopted.emit(count);
        }
      }
    });
    this._ready = this._open(
      factory,
      options.name,
      options.adoptInterval ?? Private.ADOPT_INTERVAL
    );
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
    return this._writer.durable;
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
    this._records.push(record);
    this._trim();
    return this._writer.schedule();
  }

  /**
   * The oldest events, without removing them.
   *
   * @param count - how many at most
   * @param except - ids to pass over (those already being sent)
   */
  peek(count: number, except?: ReadonlySet<string>): IEventsClient.IRecord[] {
    return this._records.peek(count, except);
  }

  /**
   * Remove events (those the server has, or refused for good).
   *
   * @returns a promise that resolves with whether the removal is stored
   */
  remove(ids: Iterable<string>): Promise<boolean> {
    for (const id of ids) {
      this._records.remove(id);
    }
    return this._writer.schedule();
  }

  /**
   * Write what waits to be written now, rather than at the end of the short
   * delay that gathers writes (for a page that is going away).
   */
  persist(): Promise<boolean> {
    return this._writer.persist();
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
    this._takeover.dispose();
    this._writer.dispose();
    // After the database is closed: no write of this tab can follow a takeover.
    if (this._ownsTab) {
      this._tab.dispose();
    }
    Signal.clearData(this);
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
    const dropped = this._records.oldest(count);
    for (const id of dropped) {
      this._records.remove(id);
    }
    this._dropped += dropped.length;
    this._emitChanged();
    void this._writer.schedule();
  }

  /**
   * Open the database, load what this tab's earlier pages and gone tabs
   * left, and look for gone tabs' events now and then.
   */
  private async _open(
    factory: IDBFactory | null,
    name: string,
    adoptInterval: number
  ): Promise<void> {
    if (!factory) {
      return;
    }
    try {
      await this._tab.ready;
      const store = await ChunkStore.open(factory, name);
      if (this._isDisposed) {
        store.close();
        return;
      }
      this._writer.useStore(store);
      const others = await store.cleanUp(this._tab.id);
      await this._takeover.adopt(others);
    } catch (reason) {
      console.warn(
        'jupyter-events-ext: IndexedDB is unavailable; waiting events are kept in memory only.',
        reason
      );
      this._writer.setDurable(false);
      return;
    }
    if (this._tab.isShared && !this._isDisposed) {
      // Tabs close at any time: look for their events now and then.
      this._takeover.start(adoptInterval);
    }
  }

  private _emitChanged(): void {
    if (!this._isDisposed) {
      this._changed.emit();
    }
  }

  private _adopted = new Signal<this, number>(this);
  private _bound: number;
  private _changed = new Signal<this, void>(this);
  private _dropped = 0;
  private _isDisposed = false;
  private _ownsTab: boolean;
  private _ready: Promise<void>;
  private _records: ChunkedRecords;
  private _tab: TabLock;
  private _takeover: Takeover;
  private _writer: ChunkWriter;
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
   * The share of the waiting events dropped, oldest first, when storage is full.
   */
  export const QUOTA_DROP = 0.1;

  /**
   * Milliseconds between looks for the events of closed tabs.
   */
  export const ADOPT_INTERVAL = 1000;
}
