import type { IEventsClient } from '../tokens';

/**
 * The IndexedDB database behind the event queue: *chunks* of events, each
 * owned by the tab that wrote it (or took it over), the *progress* of each
 * chunk (how many of its events at the front were sent).
 *
 * Only a chunk's owner writes or deletes its rows, and it writes a chunk and
 * its progress in one transaction, so that no tab undoes another's work and
 * no progress outlives its chunk.
 */
export class ChunkStore {
  private constructor(private readonly _db: IDBDatabase) {
    // Another version of the page asks to upgrade the database (or to delete
    // it): let it, and let the queue know that its writes need a new store.
    _db.onversionchange = () => {
      this.close();
      this._onClose?.();
    };
  }

  /**
   * Open (creating or upgrading on first use) a database.
   */
  static open(factory: IDBFactory, name: string): Promise<ChunkStore> {
    return new Promise((resolve, reject) => {
      let refused = false;
      const request = factory.open(name, Private.VERSION);
      request.onupgradeneeded = event =>
        Private.upgrade(request.result, request.transaction!, event.oldVersion);
      request.onsuccess = () => {
        if (refused) {
          // Opened after all, too late: close it so that it blocks nobody.
          request.result.close();
        } else {
          resolve(new ChunkStore(request.result));
        }
      };
      request.onerror = () => reject(request.error);
      // Not waited for: a tab that keeps an old version open may never yield.
      request.onblocked = () => {
        refused = true;
        reject(new Error(`The database "${name}" is blocked by another tab.`));
      };
    });
  }

  /**
   * Whether the database is closed.
   */
  get isClosed(): boolean {
    return this._isClosed;
  }

  /**
   * Call `fn` when the database is closed under the queue (version change).
   */
  set onClose(fn: (() => void) | null) {
    this._onClose = fn;
  }

  /**
   * Delete progress that lost its chunk (left by versions before owners, or
   * by a tab that wrote while it was going away), and list the owners of
   * chunks other than `tab`.
   */
  cleanUp(tab: string): Promise<string[]> {
    return this._transaction([CHUNKS, PROGRESS], 'readwrite', t => {
      const chunkKeys = t.objectStore(CHUNKS).getAllKeys();
      const progressKeys = t.objectStore(PROGRESS).getAllKeys();
      // Requests complete in order: the chunk keys are there.
      progressKeys.onsuccess = () => {
        const live = new Set(chunkKeys.result.map(key => JSON.stringify(key)));
        for (const key of progressKeys.result) {
          if (!live.has(JSON.stringify(key))) {
            t.objectStore(PROGRESS).delete(key);
          }
        }
      };
      return Private.owners(t, tab);
    });
  }

  /**
   * The owners of chunks other than `tab`: read from the chunks themselves,
   * so that a chunk a tab wrote as it went away is found too.
   */
  owners(tab: string): Promise<string[]> {
    return this._transaction([CHUNKS], 'readonly', t => Private.owners(t, tab));
  }

  /**
   * Make `tab` the owner of every chunk of `owner`, a tab that is gone, in one
   * transaction.
   *
   * @returns the chunks taken over, each with how many of its events were sent
   */
  take(owner: string, tab: string): Promise<ChunkStore.IChunk[]> {
    return this._transaction([CHUNKS, PROGRESS], 'readwrite', t => {
      const chunks = t.objectStore(CHUNKS);
      const progress = t.objectStore(PROGRESS);
      const taken: ChunkStore.IChunk[] = [];
      const rows = chunks.index(OWNER).getAll(owner);
      rows.onsuccess = () => {
        for (const row of rows.result as ChunkStore.IRow[]) {
          chunks.put({ ...row, owner: tab });
          const chunk: ChunkStore.IChunk = { ...row, owner: tab, skip: 0 };
          taken.push(chunk);
          const sent = progress.get(row.key);
          sent.onsuccess = () => {
            chunk.skip =
              (sent.result as { skip: number } | undefined)?.skip ?? 0;
          };
        }
      };
      return () => taken;
    });
  }

  /**
   * Apply the writes of the queue in one transaction.
   */
  write(writes: ReadonlyArray<ChunkStore.IWrite>): Promise<void> {
    return this._transaction([CHUNKS, PROGRESS], 'readwrite', t => {
      const chunks = t.objectStore(CHUNKS);
      const progress = t.objectStore(PROGRESS);
      for (const write of writes) {
        switch (write.kind) {
          case 'chunk':
            chunks.put(write.row);
            progress.delete(write.row.key);
            break;
          case 'progress':
            progress.put({ key: write.key, skip: write.skip });
            break;
          case 'delete':
            chunks.delete(write.key);
            progress.delete(write.key);
            break;
        }
      }
      return () => undefined;
    });
  }

  /**
   * Close the database.
   */
  close(): void {
    if (!this._isClosed) {
      this._isClosed = true;
      this._db.close();
    }
  }

  /**
   * Run one transaction: `fill` makes its requests and returns what to
   * resolve with once it commits. A request that throws (a full disk can)
   * aborts the whole transaction.
   */
  private _transaction<T>(
    stores: string[],
    mode: IDBTransactionMode,
    fill: (transaction: IDBTransaction) => () => T
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let transaction: IDBTransaction;
      let result: () => T;
      try {
        transaction = this._db.transaction(stores, mode);
      } catch (error) {
        return reject(error);
      }
      transaction.oncomplete = () => resolve(result());
      transaction.onabort = () =>
        reject(transaction.error ?? new Error('IndexedDB transaction aborted'));
      try {
        result = fill(transaction);
      } catch (error) {
        transaction.onabort = () => reject(error);
        transaction.abort();
      }
    });
  }

  private _isClosed = false;
  private _onClose: (() => void) | null = null;
}

/**
 * The types of the store.
 */
export namespace ChunkStore {
  /**
   * A chunk's key: when it was written, by which tab, in which order; unique
   * across tabs, ordered by time.
   */
  export type Key = [number, string, number];

  /**
   * A chunk as it is stored.
   */
  export interface IRow {
    key: Key;
    /**
     * The tab that owns the chunk: the only one that writes it or sends it.
     */
    owner: string;
    records: IEventsClient.IRecord[];
  }

  /**
   * A chunk taken over, with how many of its events were already sent.
   */
  export interface IChunk extends IRow {
    skip: number;
  }

  /**
   * One write of the queue: a chunk (its progress deleted), a chunk's
   * progress, or a chunk deleted with its progress.
   */
  export type IWrite =
    | { kind: 'chunk'; row: IRow }
    | { kind: 'progress'; key: Key; skip: number }
    | { kind: 'delete'; key: Key };
}

const CHUNKS = 'chunks';
const PROGRESS = 'progress';
const OWNER = 'owner';

namespace Private {
  /**
   * The distinct owners of chunks, but `tab`, once the transaction completes.
   */
  export function owners(t: IDBTransaction, tab: string): () => string[] {
    const found: string[] = [];
    const cursor = t
      .objectStore(CHUNKS)
      .index(OWNER)
      .openKeyCursor(null, 'nextunique');
    cursor.onsuccess = () => {
      if (cursor.result) {
        if (cursor.result.key !== tab) {
          found.push(cursor.result.key as string);
        }
        cursor.result.continue();
      }
    };
    return () => found;
  }

  /**
   * 1: chunks and progress; 2: owners.
   */
  export const VERSION = 2;

  /**
   * The chunks of version 1 had no owner: they go to a tab that never
   * lived, so that the first tab to look takes them over.
   */
  export const NOBODY = '';

  export function upgrade(
    db: IDBDatabase,
    transaction: IDBTransaction,
    oldVersion: number
  ): void {
    if (oldVersion < 1) {
      db.createObjectStore(CHUNKS, { keyPath: 'key' });
      db.createObjectStore(PROGRESS, { keyPath: 'key' });
    }
    if (oldVersion < 2) {
      const chunks = transaction.objectStore(CHUNKS);
      chunks.createIndex(OWNER, OWNER);
      const cursor = chunks.openCursor();
      cursor.onsuccess = () => {
        if (cursor.result) {
          cursor.result.update({ ...cursor.result.value, owner: NOBODY });
          cursor.result.continue();
        }
      };
    }
  }
}
