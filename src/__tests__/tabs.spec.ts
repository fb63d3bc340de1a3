import { IDBFactory } from 'fake-indexeddb';

import { EventsClient } from '../client/client';
import { EventQueue } from '../client/queue';
import { TabLock } from '../client/tabs';
import type { IEventsClient } from '../tokens';
import { CELL_SCHEMA, FakeServer } from './fakeserver';
import { FakeLocks } from './locks';

const started = (n: number) => ({ phase: 'started', cell_id: `c${n}` });

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}

async function until(check: () => boolean, timeout = 5000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeout) {
      throw new Error('timed out');
    }
    await sleep(10);
  }
}

function record(n: number): IEventsClient.IRecord {
  return {
    id: `id-${n}`,
    schema_id: 'https://example.org/s/v1',
    version: 1,
    data: { n },
    timestamp: new Date(n).toISOString()
  };
}

/**
 * What the database holds: each chunk's owner and event ids, and the progress rows.
 */
function raw(
  factory: IDBFactory,
  name: string
): Promise<{
  chunks: { owner: string; ids: string[] }[];
  progress: number[];
}> {
  return new Promise((resolve, reject) => {
    const open = factory.open(name);
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const transaction = db.transaction(['chunks', 'progress']);
      const chunks = transaction.objectStore('chunks').getAll();
      const progress = transaction.objectStore('progress').getAll();
      transaction.oncomplete = () => {
        db.close();
        resolve({
          chunks: chunks.result.map((chunk: any) => ({
            owner: chunk.owner,
            ids: chunk.records.map((r: any) => r.id)
          })),
          progress: progress.result.map((entry: any) => entry.skip)
        });
      };
    };
  });
}

describe('tabs sharing one queue', () => {
  describe('EventQueue', () => {
    let factory: IDBFactory;
    let locks: FakeLocks;
    const queues: EventQueue[] = [];

    function queue(tab = locks.tab(), id?: string): EventQueue {
      const created = new EventQueue({
        name: 'q',
        indexedDB: factory,
        tab: new TabLock({ name: 'q', locks: tab.locks, id }),
        adoptInterval: 50
      });
      queues.push(created);
      return created;
    }

    beforeEach(() => {
      factory = new IDBFactory();
      locks = new FakeLocks();
    });

    afterEach(() => {
      for (const q of queues.splice(0)) {
        q.dispose();
        q.tab.dispose();
      }
    });

    it('leaves the chunks of a live tab alone; only their owner writes them', async () => {
      const a = queue(locks.tab(), 'A');
      await a.ready;
      await Promise.all([0, 1, 2].map(n => a.push(record(n))));
      const b = queue(locks.tab(), 'B');
      await b.ready;
      await Promise.all([3, 4].map(n => b.push(record(n))));
      await sleep(150); // several looks for closed tabs
      expect(a.peek(10).map(r => r.id)).toEqual(['id-0', 'id-1', 'id-2']);
      expect(b.peek(10).map(r => r.id)).toEqual(['id-3', 'id-4']);

      // A sends all of its events, B one of its own.
      await a.remove(['id-0', 'id-1', 'id-2']);
      await b.remove(['id-3']);
      expect(await raw(factory, 'q')).toEqual({
        chunks: [{ owner: 'B', ids: ['id-3', 'id-4'] }],
        progress: [1]
      });
      // B writing again does not bring back what A deleted.
      await b.push(record(5));
      const stored = await raw(factory, 'q');
      expect(stored.chunks.flatMap(c => c.ids)).toEqual([
        'id-3',
        'id-4',
        'id-5'
      ]);
      expect(stored.chunks.every(c => c.owner === 'B')).toBe(true);
    });

    it('takes over the chunks of a tab that crashed, in one tab only, with their progress', async () => {
      const crashing = locks.tab();
      const dead = queue(crashing, 'dead');
      await dead.ready;
      await Promise.all([0, 1, 2, 3].map(n => dead.push(record(n))));
      await dead.remove(['id-0']);
      const a = queue(locks.tab(), 'A');
      const b = queue(locks.tab(), 'B');
      await Promise.all([a.ready, b.ready]);
      await sleep(100);
      expect(a.size + b.size).toBe(0);

      crashing.crash();
      await until(() => a.size + b.size === 3);
      await sleep(150);
      const taken = [...a.peek(10), ...b.peek(10)].map(r => r.id);
      expect(taken).toEqual(['id-1', 'id-2', 'id-3']);
      const adopter = a.size ? a : b;
      expect((await raw(factory, 'q')).chunks.map(c => c.owner)).toEqual([
        adopter.tab.id
      ]);

      await adopter.remove(['id-1', 'id-2', 'id-3']);
      expect(await raw(factory, 'q')).toEqual({ chunks: [], progress: [] });
    });

    it('finds a chunk a tab wrote as it went away, after its other chunks were taken over', async () => {
      const leaving = locks.tab();
      const dead = queue(leaving, 'dead');
      await dead.ready;
      await dead.push(record(0));
      const a = queue(locks.tab(), 'A');
      await a.ready;
      leaving.crash();
      await until(() => a.size === 1);
      // Its last write lands after the takeover.
      void dead.push(record(1));
      await dead.persist();
      await until(() => a.size === 2);
      expect(a.peek(10).map(r => r.id)).toEqual(['id-0', 'id-1']);
    });

    it('puts the events it takes over before its own, in the order they were written', async () => {
      const closing = queue(locks.tab(), 'old');
      await closing.ready;
      await closing.push(record(0));
      const a = queue(locks.tab(), 'A');
      await a.ready;
      await a.push(record(1));
      closing.dispose();
      closing.tab.dispose();
      await until(() => a.size === 2);
      expect(a.peek(10).map(r => r.id)).toEqual(['id-0', 'id-1']);
    });

    it('takes over the chunks of version 1, which had no owner, and drops progress without a chunk', async () => {
      await new Promise<void>((resolve, reject) => {
        const open = factory.open('q', 1);
        open.onupgradeneeded = () => {
          open.result.createObjectStore('chunks', { keyPath: 'key' });
          open.result.createObjectStore('progress', { keyPath: 'key' });
        };
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const t = db.transaction(['chunks', 'progress'], 'readwrite');
          t.objectStore('chunks').put({
            key: [1, 0.5, 0],
            records: [record(0), record(1), record(2)]
          });
          t.objectStore('progress').put({ key: [1, 0.5, 0], skip: 1 });
          t.objectStore('progress').put({ key: [0, 0.25, 0], skip: 3 });
          t.oncomplete = () => {
            db.close();
            resolve();
          };
        };
      });
      const a = queue(locks.tab(), 'A');
      await a.ready;
      expect(a.peek(10).map(r => r.id)).toEqual(['id-1', 'id-2']);
      expect(await raw(factory, 'q')).toEqual({
        chunks: [{ owner: 'A', ids: ['id-0', 'id-1', 'id-2'] }],
        progress: [1]
      });
    });
  });

  describe('EventsClient', () => {
    let server: FakeServer;
    let factory: IDBFactory;
    let locks: FakeLocks;
    const clients: EventsClient[] = [];

    function tab(options: EventsClient.IOptions = {}) {
      const locksOfTab = locks.tab();
      const client = new EventsClient({
        serverSettings: server.settings,
        indexedDB: factory,
        storage: null,
        locks: locksOfTab.locks,
        batchInterval: 50,
        maxRetryInterval: 100,
        adoptInterval: 50,
        ...options
      });
      clients.push(client);
      return { client, crash: locksOfTab.crash };
    }

    beforeEach(async () => {
      server = await FakeServer.start();
      factory = new IDBFactory();
      locks = new FakeLocks();
    });

    afterEach(async () => {
      for (const c of clients.splice(0)) {
        c.dispose();
      }
      await server.close();
    });

    it('two tabs offline, one reloaded: every event is posted once, one request at a time', async () => {
      server.mode = 'refused';
      const a = tab();
      const b = tab();
      await Promise.all([a.client.listSchemas(), b.client.listSchemas()]);
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        ids.push((await a.client.emit(CELL_SCHEMA.id, started(i))).id);
        ids.push((await b.client.emit(CELL_SCHEMA.id, started(100 + i))).id);
      }
      await until(() => !a.client.state.connected && !b.client.state.connected);

      // B reloads while still offline: the new page takes over B's events.
      b.client.dispose();
      const reloaded = tab();
      await reloaded.client.listSchemas().catch(() => undefined);
      for (let i = 0; i < 3; i++) {
        ids.push(
          (await reloaded.client.emit(CELL_SCHEMA.id, started(200 + i))).id
        );
      }
      await until(
        () => a.client.state.waiting + reloaded.client.state.waiting === 17
      );

      server.delay = 20;
      server.mode = 'ok';
      await server.waitFor(17);
      await until(
        () =>
          a.client.state.waiting === 0 && reloaded.client.state.waiting === 0
      );
      await sleep(200);
      expect(server.recorded.map(e => e.id).sort()).toEqual([...ids].sort());
      // No id in two requests, and never two requests in flight.
      const posted = server.posts.flatMap(p => p.events.map(e => e.id));
      expect(posted.sort()).toEqual([...ids].sort());
      expect(server.maxInFlight).toBe(1);
      expect(
        await raw(factory, `jupyter-events-ext ${server.baseUrl}`)
      ).toEqual({ chunks: [], progress: [] });
    });

    it('a crashed tab’s events are sent once, by one of the live tabs', async () => {
      server.mode = 'refused';
      const a = tab();
      const b = tab();
      const c = tab();
      await Promise.all([a, b, c].map(({ client }) => client.listSchemas()));
      const ids = [];
      for (let i = 0; i < 5; i++) {
        ids.push((await c.client.emit(CELL_SCHEMA.id, started(i))).id);
      }
      ids.push((await a.client.emit(CELL_SCHEMA.id, started(10))).id);
      c.crash();
      c.client.dispose();
      await until(() => a.client.state.waiting + b.client.state.waiting === 6);
      server.mode = 'ok';
      await server.waitFor(6);
      await sleep(300);
      expect(server.recorded.map(e => e.id).sort()).toEqual(ids.sort());
      expect(server.posts.flatMap(p => p.events).length).toBe(6);
    });
  });
});
