import type { IEventsClient } from '../tokens';
import type { ChunkStore } from './store';

/**
 * The waiting events in memory, oldest first, each in the *chunk* it is
 * stored in: the events pushed in one short while are written as one record
 * (a chunk), and events removed from the front of a chunk as that chunk's
 * progress (a number). This keeps which chunks changed since they were last
 * written, and says what to write.
 */
export class ChunkedRecords {
  /**
   * @param owner - the id of this tab, which owns the chunks it writes
   */
  constructor(private readonly _owner: string) {}

  /**
   * How many events wait.
   */
  get size(): number {
    return this._records.size;
  }

  /**
   * Add an event at the end, in the chunk being filled.
   */
  push(record: IEventsClient.IRecord): void {
    let chunk = this._filling;
    if (!chunk) {
      chunk = this._filling = Private.chunk(
        [Date.now(), this._owner, this._sequence++],
        false
      );
      this._chunks.add(chunk);
      this._dirty.add(chunk);
    }
    chunk.ids.push(record.id);
    this._records.set(record.id, record);
    this._chunkOf.set(record.id, chunk);
  }

  /**
   * The oldest events, without removing them.
   *
   * @param count - how many at most
   * @param except - ids to pass over
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
   * The ids of the `count` oldest events.
   */
  oldest(count: number): string[] {
    const ids: string[] = [];
    for (const id of this._records.keys()) {
      if (ids.length >= count) {
        break;
      }
      ids.push(id);
    }
    return ids;
  }

  /**
   * Remove an event; its chunk is then behind what is stored.
   *
   * @returns whether it was there
   */
  remove(id: string): boolean {
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
   * What to write to bring the store up to date, as one transaction; the
   * chunks are then taken for written. Give them back with `unwritten` if
   * the transaction fails.
   */
  takeWrites(): { chunks: Private.IChunk[]; writes: ChunkStore.IWrite[] } {
    const chunks = [...this._dirty];
    this._dirty.clear();
    this._filling = null;
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
    return { chunks, writes };
  }

  /**
   * The writes of these chunks failed: what the store holds of them is
   * unknown, so they are written whole next time.
   */
  unwritten(chunks: ReadonlyArray<Private.IChunk>): void {
    for (const chunk of chunks) {
      chunk.written = chunk.rewrite = true;
      this._dirty.add(chunk);
      if (chunk.removed < chunk.ids.length) {
        this._chunks.add(chunk);
      }
    }
  }

  /**
   * The store may have lost everything (opened again): write it all whole.
   */
  rewriteAll(): void {
    for (const chunk of this._chunks) {
      chunk.rewrite = true;
      this._dirty.add(chunk);
    }
  }

  /**
   * Nothing is ever written (no IndexedDB): forget what changed.
   */
  forgetChanges(): void {
    this._dirty.clear();
    this._filling = null;
  }

  /**
   * Add the chunks taken over from tabs that are gone, and put their events
   * before the newer ones, in the order they were written.
   *
   * @returns how many events were added
   */
  adopt(taken: ReadonlyArray<ChunkStore.IChunk>): number {
    const adopted = new Map<string, IEventsClient.IRecord>();
    for (const stored of taken) {
      const chunk = Private.chunk(stored.key, true);
      chunk.ids = stored.records.map(record => record.id);
      chunk.skip = chunk.removed = stored.skip;
      for (const record of stored.records.slice(stored.skip)) {
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
    return adopted.size;
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
    return { key: chunk.key, owner: this._owner, records };
  }

  private _chunkOf = new Map<string, Private.IChunk>();
  /**
   * The chunks that hold waiting events, or whose removal is not stored yet.
   */
  private _chunks = new Set<Private.IChunk>();
  /**
   * The chunks whose stored form is behind.
   */
  private _dirty = new Set<Private.IChunk>();
  /**
   * The chunk the events pushed now go to, until the next write.
   */
  private _filling: Private.IChunk | null = null;
  private _records = new Map<string, IEventsClient.IRecord>();
  private _sequence = 0;
}

namespace Private {
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
}

/**
 * The types of the records in chunks.
 */
export namespace ChunkedRecords {
  /**
   * A chunk as it is kept track of (what `takeWrites` gives and `unwritten`
   * takes back).
   */
  export type IChunk = Private.IChunk;
}
