import type { IDisposable } from '@lumino/disposable';

import type { ChunkedRecords } from './chunks';
import type { ChunkStore } from './store';
import type { TabLock } from './tabs';

/**
 * The takeover of the events of tabs that are gone (closed, crashed,
 * reloaded): their chunks become this tab's, through their tab's lock, so
 * that exactly one tab takes them over, with their progress.
 */
export class Takeover implements IDisposable {
  constructor(options: Takeover.IOptions) {
    this._tab = options.tab;
    this._records = options.records;
    this._store = options.store;
    this._onAdopted = options.onAdopted;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Take over the chunks of these owners that are gone (those alive keep
   * theirs), and put their events before the newer ones.
   */
  async adopt(owners: ReadonlyArray<string>): Promise<void> {
    const taken: ChunkStore.IChunk[] = [];
    for (const owner of owners) {
      const store = this._store();
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
    this._onAdopted(this._records.adopt(taken));
  }

  /**
   * Look for the chunks of gone tabs every `interval` milliseconds: tabs
   * close at any time, and one that goes away may write its last chunk after
   * the next page opened. A look reads the distinct owners from an index,
   * which costs next to nothing.
   */
  start(interval: number): void {
    clearInterval(this._timer);
    this._timer = setInterval(() => {
      const store = this._store();
      if (store) {
        void store
          .owners(this._tab.id)
          .then(owners => this.adopt(owners))
          .catch(() => undefined);
      }
    }, interval);
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    clearInterval(this._timer);
  }

  private _isDisposed = false;
  private _onAdopted: (count: number) => void;
  private _records: ChunkedRecords;
  private _store: () => ChunkStore | null;
  private _tab: TabLock;
  private _timer: ReturnType<typeof setInterval> | undefined = undefined;
}

export namespace Takeover {
  export interface IOptions {
    tab: TabLock;
    records: ChunkedRecords;
    /**
     * The database, while it is open.
     */
    store: () => ChunkStore | null;
    /**
     * Told how many events were taken over, each time some chunks were.
     */
    onAdopted: (count: number) => void;
  }
}
