import { IDBDatabase, IDBFactory, IDBObjectStore } from 'fake-indexeddb';

import { EventQueue } from '../client/queue';
import { ChunkStore } from '../client/store';
import type { IEventsClient } from '../tokens';

function record(n: number): IEventsClient.IRecord {
  return {
    id: `id-${n}`,
    schema_id: 'https://example.org/s/v1',
    version: 1,
    data: { n },
    timestamp: new Date(n).toISOString()
  };
}

function ids(records: IEventsClient.IRecord[]): string[] {
  return records.map(r => r.id);
}

/**
 * What the database holds: the size of each chunk, the progress of each.
 */
function raw(
  factory: IDBFactory
): Promise<{ chunks: number[]; progress: number[] }> {
  return new Promise((resolve, reject) => {
    const open = factory.open('q');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const transaction = db.transaction(['chunks', 'progress']);
      const chunks = transaction.objectStore('chunks').getAll();
      const progress = transaction.objectStore('progress').getAll();
      transaction.oncomplete = () => {
        db.close();
        resolve({
          chunks: chunks.result.map((chunk: any) => chunk.records.length),
          progress: progress.result.map((entry: any) => entry.skip)
        });
      };
    };
  });
}

describe('EventQueue', () => {
  let factory: IDBFactory;

  beforeEach(() => {
    factory = new IDBFactory();
  });

  it('keeps events in order and hands out the oldest first', async () => {
    const queue = new EventQueue({ name: 'q', indexedDB: factory });
    await queue.ready;
    for (let i = 0; i < 5; i++) {
      void queue.push(record(i));
    }
    expect(queue.size).toBe(5);
    expect(ids(queue.peek(2))).toEqual(['id-0', 'id-1']);
    void queue.remove(['id-0', 'id-1']);
    expect(ids(queue.peek(10))).toEqual(['id-2', 'id-3', 'id-4']);
    queue.dispose();
  });

  it('survives a reload: a new queue on the same database loads what waited', async () => {
    const first = new EventQueue({ name: 'q', indexedDB: factory });
    for (let i = 0; i < 3; i++) {
      void first.push(record(i));
    }
    await first.remove(['id-1']);
    expect(first.isDurable).toBe(true);
    first.dispose();

    const second = new EventQueue({ name: 'q', indexedDB: factory });
    // Pushed before the stored events are loaded: still after them.
    void second.push(record(9));
    await second.ready;
    expect(ids(second.peek(10))).toEqual(['id-0', 'id-2', 'id-9']);
    expect(second.peek(1)[0]).toEqual(record(0));
    second.dispose();
  });

  it('resolves push once the event is stored, one transaction per task', async () => {
    const queue = new EventQueue({ name: 'q', indexedDB: factory });
    await queue.ready;
    const write = jest.spyOn(ChunkStore.prototype, 'write');
    const stored = [queue.push(record(1)), queue.push(record(2))];
    expect(stored[0]).toBe(stored[1]);
    await Promise.all(stored);
    expect(write).toHaveBeenCalledTimes(1);
    write.mockRestore();

    const reloaded = new EventQueue({ name: 'q', indexedDB: factory });
    await reloaded.ready;
    expect(reloaded.size).toBe(2);
    queue.dispose();
    reloaded.dispose();
  });

  it('stores the events of one task as one chunk, and sending as progress', async () => {
    const queue = new EventQueue({ name: 'q', indexedDB: factory });
    await queue.ready;
    for (let i = 0; i < 5; i++) {
      void queue.push(record(i));
    }
    await queue.push(record(5));
    expect(await raw(factory)).toEqual({ chunks: [6], progress: [] });

    await queue.remove(['id-0', 'id-1']);
    expect(await raw(factory)).toEqual({ chunks: [6], progress: [2] });
    const reloaded = new EventQueue({ name: 'q', indexedDB: factory });
    await reloaded.ready;
    expect(ids(reloaded.peek(10))).toEqual(['id-2', 'id-3', 'id-4', 'id-5']);
    reloaded.dispose();

    await queue.remove(['id-2', 'id-3', 'id-4', 'id-5']);
    expect(await raw(factory)).toEqual({ chunks: [], progress: [] });
    queue.dispose();
  });

  it('drops the oldest beyond its bound and counts them, in the store too', async () => {
    const queue = new EventQueue({ name: 'q', indexedDB: factory, bound: 3 });
    await queue.ready;
    for (let i = 0; i < 5; i++) {
      void queue.push(record(i));
    }
    expect(queue.size).toBe(3);
    expect(queue.dropped).toBe(2);
    expect(ids(queue.peek(10))).toEqual(['id-2', 'id-3', 'id-4']);

    queue.bound = 1;
    expect(ids(queue.peek(10))).toEqual(['id-4']);
    expect(queue.dropped).toBe(4);
    await queue.push(record(5));
    queue.dispose();

    const reloaded = new EventQueue({
      name: 'q',
      indexedDB: factory,
      bound: 10
    });
    await reloaded.ready;
    expect(ids(reloaded.peek(10))).toEqual(['id-5']);
    reloaded.dispose();
  });

  it('applies its bound to what it loads', async () => {
    const first = new EventQueue({ name: 'q', indexedDB: factory });
    for (let i = 0; i < 4; i++) {
      void first.push(record(i));
    }
    await first.push(record(4));
    first.dispose();
    const small = new EventQueue({ name: 'q', indexedDB: factory, bound: 2 });
    await small.ready;
    expect(ids(small.peek(10))).toEqual(['id-3', 'id-4']);
    expect(small.dropped).toBe(3);
    small.dispose();
  });

  it('writes in the same task when asked to persist, as a page that goes away needs', async () => {
    const queue = new EventQueue({ name: 'q', indexedDB: factory });
    await queue.ready;
    const transaction = jest.spyOn(IDBDatabase.prototype, 'transaction');
    void queue.push(record(1));
    const written = queue.persist();
    expect(transaction).toHaveBeenCalledWith(
      ['chunks', 'progress'],
      'readwrite'
    );
    await expect(written).resolves.toBe(true);
    transaction.mockRestore();
    queue.dispose();
  });

  describe('when writing fails', () => {
    afterEach(() => {
      jest.restoreAllMocks();
    });

    it('retries a failed write and resolves once the events are stored', async () => {
      const queue = new EventQueue({ name: 'q', indexedDB: factory });
      await queue.ready;
      const transaction = IDBDatabase.prototype.transaction;
      let failures = 2;
      jest
        .spyOn(IDBDatabase.prototype, 'transaction')
        .mockImplementation(function (this: any, ...args: any[]) {
          if (args[1] === 'readwrite' && failures-- > 0) {
            throw new DOMException('aborted', 'AbortError');
          }
          return (transaction as any).apply(this, args);
        });
      await expect(queue.push(record(1))).resolves.toBe(true);
      expect(failures).toBe(-1);
      expect(queue.isDurable).toBe(true);
      queue.dispose();
      const reloaded = new EventQueue({ name: 'q', indexedDB: factory });
      await reloaded.ready;
      expect(ids(reloaded.peek(10))).toEqual(['id-1']);
      reloaded.dispose();
    });

    it('when storage is full, drops the oldest events, counts them, and stores the rest', async () => {
      const queue = new EventQueue({ name: 'q', indexedDB: factory });
      await queue.ready;
      const put = IDBObjectStore.prototype.put;
      // Room for 8 events.
      jest.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (
        this: any,
        value: any,
        key?: any
      ) {
        if ((value.records?.length ?? 0) > 8) {
          throw new DOMException('full', 'QuotaExceededError');
        }
        return put.call(this, value, key);
      });
      const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
      for (let i = 0; i < 9; i++) {
        void queue.push(record(i));
      }
      await expect(queue.push(record(9))).resolves.toBe(true);
      expect(queue.dropped).toBe(2);
      expect(ids(queue.peek(10))).toEqual(
        ids([2, 3, 4, 5, 6, 7, 8, 9].map(record))
      );
      expect(warn).not.toHaveBeenCalled();
      queue.dispose();
      const reloaded = new EventQueue({ name: 'q', indexedDB: factory });
      await reloaded.ready;
      expect(reloaded.size).toBe(8);
      reloaded.dispose();
    });

    it('says when events are in memory only, and stores them once it can', async () => {
      const queue = new EventQueue({ name: 'q', indexedDB: factory });
      await queue.ready;
      const transaction = IDBDatabase.prototype.transaction;
      let broken = true;
      let refused = 0;
      jest
        .spyOn(IDBDatabase.prototype, 'transaction')
        .mockImplementation(function (this: any, ...args: any[]) {
          if (broken && args[1] === 'readwrite') {
            refused++;
            throw new DOMException('broken', 'UnknownError');
          }
          return (transaction as any).apply(this, args);
        });
      const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
      let changes = 0;
      queue.changed.connect(() => changes++);
      await expect(queue.push(record(1))).resolves.toBe(false);
      expect(queue.isDurable).toBe(false);
      expect(changes).toBe(1);
      expect(warn).toHaveBeenCalledTimes(1);
      // No more waiting on retries that already failed: one attempt per change.
      const before = refused;
      await expect(queue.push(record(2))).resolves.toBe(false);
      expect(refused - before).toBe(1);

      broken = false;
      await expect(queue.push(record(3))).resolves.toBe(true);
      expect(queue.isDurable).toBe(true);
      queue.dispose();
      const reloaded = new EventQueue({ name: 'q', indexedDB: factory });
      await reloaded.ready;
      expect(ids(reloaded.peek(10))).toEqual(['id-1', 'id-2', 'id-3']);
      reloaded.dispose();
    });

    it('opens the database again after another page deleted it, and writes everything again', async () => {
      const queue = new EventQueue({ name: 'q', indexedDB: factory });
      await queue.ready;
      await Promise.all([queue.push(record(1)), queue.push(record(2))]);
      await queue.remove(['id-1']);
      await new Promise<void>((resolve, reject) => {
        const request = factory.deleteDatabase('q');
        request.onsuccess = () => resolve();
        request.onerror = () => reject(request.error);
      });
      await expect(queue.push(record(3))).resolves.toBe(true);
      expect(await raw(factory)).toEqual({ chunks: [1, 1], progress: [] });
      queue.dispose();
    });

    it('keeps events in memory when a newer version of the page upgraded the database', async () => {
      const queue = new EventQueue({ name: 'q', indexedDB: factory });
      await queue.ready;
      await queue.push(record(1));
      const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
      await new Promise<void>((resolve, reject) => {
        const request = factory.open('q', 99);
        request.onsuccess = () => {
          request.result.close();
          resolve();
        };
        request.onerror = () => reject(request.error);
      });
      await expect(queue.push(record(2))).resolves.toBe(false);
      expect(queue.isDurable).toBe(false);
      expect(ids(queue.peek(10))).toEqual(['id-1', 'id-2']);
      expect(warn).toHaveBeenCalledWith(
        expect.stringContaining('in memory only'),
        expect.anything()
      );
      queue.dispose();
    });
  });

  it('works in memory when there is no IndexedDB', async () => {
    const queue = new EventQueue({ name: 'q', indexedDB: null });
    await expect(queue.push(record(1))).resolves.toBe(false);
    expect(queue.isDurable).toBe(false);
    expect(queue.size).toBe(1);
    queue.dispose();
    queue.dispose();
    expect(queue.isDisposed).toBe(true);
  });

  it('keeps every one of 10,000 events pushed at once, in order', async () => {
    // How fast a push is, is measured by the browser benchmark
    // (scripts/bench-browser.sh, emit), not here.
    const queue = new EventQueue({
      name: 'q',
      indexedDB: factory,
      bound: 20000
    });
    await queue.ready;
    for (let i = 0; i < 10000; i++) {
      void queue.push(record(i));
    }
    await expect(queue.push(record(10000))).resolves.toBe(true);
    expect(queue.size).toBe(10001);
    expect(queue.dropped).toBe(0);
    queue.dispose();
    const reloaded = new EventQueue({
      name: 'q',
      indexedDB: factory,
      bound: 20000
    });
    await reloaded.ready;
    expect(ids(reloaded.peek(20000))).toEqual(
      ids(Array.from({ length: 10001 }, (_, i) => record(i)))
    );
    reloaded.dispose();
    queue.dispose();
  });
});
