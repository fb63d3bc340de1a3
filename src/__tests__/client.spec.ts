import { IDBFactory } from 'fake-indexeddb';

import { EventsClient } from '../client';
import { CELL_SCHEMA, FakeServer, SERVER_SCHEMA } from './fakeserver';

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

describe('EventsClient', () => {
  let server: FakeServer;
  let factory: IDBFactory;
  const clients: EventsClient[] = [];

  function client(options: EventsClient.IOptions = {}): EventsClient {
    const created = new EventsClient({
      serverSettings: server.settings,
      indexedDB: factory,
      storage: null,
      batchInterval: 50,
      maxRetryInterval: 200,
      ...options
    });
    clients.push(created);
    return created;
  }

  beforeEach(async () => {
    server = await FakeServer.start();
    factory = new IDBFactory();
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) {
      c.dispose();
    }
    await server.close();
  });

  describe('validation', () => {
    it('queues a valid event with a client id, its schema version and the time it was emitted', async () => {
      const events = client();
      const before = new Date().toISOString();
      await events.emit(CELL_SCHEMA.id, started(1));
      const after = new Date().toISOString();
      await server.waitFor(1);

      const [event] = server.recorded;
      expect(event).toMatchObject({
        schema_id: CELL_SCHEMA.id,
        version: '1',
        data: started(1)
      });
      expect(event.id).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
      );
      expect(event.timestamp >= before && event.timestamp <= after).toBe(true);
      expect(event.timestamp).toMatch(/Z$/);
    });

    it('rejects an invalid event at once with ajv’s message and sends nothing', async () => {
      const events = client();
      await events.listSchemas();
      await expect(
        events.emit(CELL_SCHEMA.id, { phase: 'paused' })
      ).rejects.toThrow(
        `Invalid "${CELL_SCHEMA.id}" event (version 1): data/phase must be equal to one of the allowed values.`
      );
      await expect(events.emit(SERVER_SCHEMA.id, {})).rejects.toThrow(
        'does not accept'
      );
      await expect(events.emit('https://nope/v1', {})).rejects.toThrow(
        'Unknown event schema'
      );
      await sleep(200);
      expect(server.posts).toHaveLength(0);
      expect(events.state.waiting).toBe(0);
    });

    it('queues events emitted before the schema list arrives at once, durably, and validates them once it does', async () => {
      let hang = true;
      server.override = route =>
        route === 'schemas' && hang ? 'hang' : undefined;
      const first = client({ queueBound: 3 });
      // Nothing waits for the list: each emit resolves once the event is stored.
      const emitted = await Promise.all([
        first.emit(CELL_SCHEMA.id, started(1)),
        first.emit(CELL_SCHEMA.id, { phase: 1 }),
        first.emit(CELL_SCHEMA.id, started(2)),
        first.emit(CELL_SCHEMA.id, started(3), '1')
      ]);
      expect(emitted.map(e => e.durable)).toEqual([true, true, true, true]);
      // Bounded and counted like every waiting event.
      await until(() => first.state.dropped === 1);
      expect(first.state).toMatchObject({ waiting: 3, dropped: 1 });
      await sleep(200);
      expect(server.posts).toHaveLength(0);

      // A reload while the list still hangs: the events are in IndexedDB.
      first.dispose();
      const second = client();
      await until(() => second.state.waiting === 3);
      const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
      hang = false;
      server.release();
      await server.waitFor(2);
      await until(() => second.state.waiting === 0);
      warn.mockRestore();
      // Validated once the list arrived: the invalid one was never posted.
      expect(server.recorded.map(e => [e.data.cell_id, e.version])).toEqual([
        ['c2', '1'],
        ['c3', '1']
      ]);
      expect(
        server.posts.flatMap(p => p.events).map(e => e.data.phase)
      ).toEqual(['started', 'started']);
      expect(second.state.rejected).toBe(1);
      expect(Object.keys(server.recorded[0]).sort()).toEqual([
        'data',
        'id',
        'schema_id',
        'timestamp',
        'version'
      ]);
    });

    it('uses the schema list of an earlier page while the server is away', async () => {
      const storage = new Map<string, string>();
      const fakeStorage = {
        getItem: (key: string) => storage.get(key) ?? null,
        setItem: (key: string, value: string) => storage.set(key, value)
      } as unknown as Storage;
      const first = client({ storage: fakeStorage });
      await first.listSchemas();
      first.dispose();

      server.mode = 'refused';
      const offline = new EventsClient({
        serverSettings: {
          ...server.settings,
          baseUrl: server.baseUrl,
          fetch: () => Promise.reject(new TypeError('offline'))
        },
        indexedDB: factory,
        storage: fakeStorage
      });
      clients.push(offline);
      await expect(offline.emit(CELL_SCHEMA.id, started(1))).resolves.toEqual({
        id: expect.any(String),
        durable: true
      });
      await expect(offline.emit(CELL_SCHEMA.id, {})).rejects.toThrow(
        "data must have required property 'phase'"
      );
    });
  });

  describe('batching', () => {
    it('sends a full batch at once and the rest when the interval ends', async () => {
      const events = client({ batchSize: 5, batchInterval: 60 * 1000 });
      await events.listSchemas();
      for (let i = 0; i < 12; i++) {
        void events.emit(CELL_SCHEMA.id, started(i));
      }
      await server.waitFor(10);
      await sleep(150);
      expect(server.posts.map(p => p.events.length)).toEqual([5, 5]);
      expect(events.state.waiting).toBe(2);

      await events.flush();
      expect(server.posts.map(p => p.events.length)).toEqual([5, 5, 2]);
      expect(server.recorded.map(e => e.data.cell_id)).toEqual(
        Array.from({ length: 12 }, (_, i) => `c${i}`)
      );
    });

    it('sends what waits in one batch when the interval ends', async () => {
      const events = client({ batchSize: 100, batchInterval: 100 });
      await events.listSchemas();
      for (let i = 0; i < 3; i++) {
        void events.emit(CELL_SCHEMA.id, started(i));
      }
      await server.waitFor(3);
      expect(server.posts.map(p => p.events.length)).toEqual([3]);
    });

    it('applies new settings at once', async () => {
      const events = client({ batchSize: 100, batchInterval: 60 * 1000 });
      await events.listSchemas();
      for (let i = 0; i < 4; i++) {
        void events.emit(CELL_SCHEMA.id, started(i));
      }
      await sleep(100);
      expect(server.posts).toHaveLength(0);

      events.configure({ batchSize: 2 });
      await server.waitFor(4);
      expect(server.posts.map(p => p.events.length)).toEqual([2, 2]);

      events.configure({ batchSize: 100, batchInterval: 50 });
      void events.emit(CELL_SCHEMA.id, started(4));
      await server.waitFor(5);
    });

    it('splits a batch the server finds too large, and grows back after successes', async () => {
      server.maxBatch = 3;
      const events = client({ batchSize: 8, batchInterval: 100 });
      await events.listSchemas();
      for (let i = 0; i < 8; i++) {
        void events.emit(CELL_SCHEMA.id, started(i));
      }
      await server.waitFor(8);
      const sizes = server.posts.map(p => p.events.length);
      expect(sizes.slice(0, 3)).toEqual([8, 4, 2]);
      expect(Math.max(...sizes.slice(3))).toBeLessThanOrEqual(4);
      expect(events.state.reason).toBeNull();

      // The limit was the server's at that moment: later batches are whole again.
      server.maxBatch = Infinity;
      server.posts.length = 0;
      for (let i = 8; i < 24; i++) {
        void events.emit(CELL_SCHEMA.id, started(i));
      }
      await server.waitFor(24);
      expect(server.posts.map(p => p.events.length)).toContain(8);
      expect(server.recorded.map(e => e.data.cell_id)).toEqual(
        Array.from({ length: 24 }, (_, i) => `c${i}`)
      );
    });

    it('emits cheaply: 10,000 events take well under 0.05 ms each', async () => {
      const events = client({ batchSize: 1000, queueBound: 20000 });
      await events.listSchemas();
      void events.emit(CELL_SCHEMA.id, started(-1));
      const start = performance.now();
      for (let i = 0; i < 10000; i++) {
        void events.emit(CELL_SCHEMA.id, started(i));
      }
      const perEmit = (performance.now() - start) / 10000;
      expect(perEmit).toBeLessThan(0.05);
      await server.waitFor(10001, 20000);
    });
  });

  describe('durable queue and retries', () => {
    it('keeps events while the server fails and delivers each once when it is back', async () => {
      server.mode = 'unavailable';
      const events = client({ batchSize: 2 });
      await events.listSchemas();
      for (let i = 0; i < 5; i++) {
        void events.emit(CELL_SCHEMA.id, started(i));
      }
      await until(() => server.posts.length > 1);
      expect(server.recorded).toHaveLength(0);
      expect(events.state).toMatchObject({ connected: false, waiting: 5 });

      server.mode = 'ok';
      await server.waitFor(5);
      await until(() => events.state.waiting === 0);
      await sleep(100);
      expect(server.recorded).toHaveLength(5);
      expect(events.state).toMatchObject({ connected: true, waiting: 0 });
    });

    it('retries a batch whose reply was lost with the same ids; the server records it once', async () => {
      server.mode = 'lost';
      const events = client();
      await events.listSchemas();
      void events.emit(CELL_SCHEMA.id, started(1));
      void events.emit(CELL_SCHEMA.id, started(2));
      await server.waitFor(2);
      await sleep(100);
      server.mode = 'ok';
      await events.flush();
      await until(() => events.state.waiting === 0);

      expect(server.recorded).toHaveLength(2);
      for (const { id } of server.recorded) {
        expect(server.arrivals.get(id)).toBeGreaterThanOrEqual(2);
      }
      expect(events.state.waiting).toBe(0);
    });

    it('retries when the connection is refused', async () => {
      server.mode = 'refused';
      const events = client();
      await events.listSchemas();
      void events.emit(CELL_SCHEMA.id, started(1));
      await until(() => server.posts.length === 0 && !events.state.connected);
      expect(events.state).toMatchObject({ connected: false, waiting: 1 });
      server.mode = 'ok';
      await server.waitFor(1);
    });

    it('delivers after a reload what an earlier page could not send', async () => {
      server.mode = 'refused';
      const first = client();
      await first.listSchemas();
      await first.emit(CELL_SCHEMA.id, started(1));
      await first.emit(CELL_SCHEMA.id, started(2));
      first.dispose();
      await expect(first.emit(CELL_SCHEMA.id, started(3))).rejects.toThrow(
        'disposed'
      );

      server.mode = 'ok';
      const second = client();
      await server.waitFor(2);
      expect(server.recorded.map(e => e.data.cell_id)).toEqual(['c1', 'c2']);
      await until(() => second.state.waiting === 0);
    });

    it('drops the oldest events when the queue is full, and counts them', async () => {
      server.mode = 'unavailable';
      const events = client({ queueBound: 3, batchSize: 100 });
      await events.listSchemas();
      for (let i = 0; i < 5; i++) {
        void events.emit(CELL_SCHEMA.id, started(i));
      }
      const states: number[] = [];
      events.stateChanged.connect((_, state) => states.push(state.dropped));
      await sleep(150);
      expect(events.state).toMatchObject({ waiting: 3, dropped: 2 });
      expect(states).toContain(2);

      server.mode = 'ok';
      await server.waitFor(3);
      expect(server.recorded.map(e => e.data.cell_id)).toEqual([
        'c2',
        'c3',
        'c4'
      ]);
    });

    it('drops, counts and does not retry the events the server refuses', async () => {
      const events = client({ batchSize: 100 });
      await events.listSchemas();
      const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
      server.schemas = [SERVER_SCHEMA];
      void events.emit(CELL_SCHEMA.id, started(1));
      await until(() => events.state.rejected === 1);
      expect(events.state).toMatchObject({ waiting: 0, rejected: 1 });
      expect(warn).toHaveBeenCalledWith(
        expect.stringContaining('Unknown schema')
      );
      warn.mockRestore();
    });

    it('posts what waits with keepalive when the page is hidden for good', async () => {
      server.mode = 'refused';
      const events = client({ batchInterval: 60 * 1000, batchSize: 100 });
      await events.listSchemas();
      void events.emit(CELL_SCHEMA.id, started(1));
      server.mode = 'ok';
      window.dispatchEvent(new Event('pagehide'));
      await server.waitFor(1);
      // Still stored: the next page sends it again and the server ignores it.
      expect(events.state.waiting).toBe(1);
    });
  });

  describe('what each answer means', () => {
    const cases: [string, number | null, string, string | RegExp][] = [
      [
        '401',
        401,
        'not-authorized',
        'Not authorized to record events (401: No).'
      ],
      [
        '403',
        403,
        'not-authorized',
        'Not authorized to record events (403: No).'
      ],
      [
        '404',
        404,
        'not-installed',
        'The jupyter_events_ext server extension is not installed or not enabled on this server (404).'
      ],
      ['500', 500, 'server-error', 'The server failed (500: No); retrying.'],
      ['503', 503, 'server-error', 'The server failed (503: No); retrying.'],
      [
        'no answer',
        null,
        'unreachable',
        'The server cannot be reached; retrying.'
      ]
    ];
    for (const [name, status, kind, message] of cases) {
      it(`${name}: the state says why, the events wait and are sent once it is over`, async () => {
        let failing = true;
        let attempts = 0;
        server.override = (route, method) => {
          if (
            status === null ||
            !failing ||
            route !== 'events' ||
            method !== 'POST'
          ) {
            return undefined;
          }
          attempts++;
          return status === 404
            ? {
                status,
                body: '<html>404 Not Found</html>',
                contentType: 'text/html'
              }
            : { status: status!, body: JSON.stringify({ message: 'No' }) };
        };
        if (status === null) {
          server.mode = 'refused';
        }
        const events = client();
        await events.listSchemas();
        await events.emit(CELL_SCHEMA.id, started(1));
        await until(() => events.state.reason !== null);
        expect(events.state).toMatchObject({
          connected: false,
          reason: { kind, status, message },
          waiting: 1,
          rejected: 0
        });
        // Retried with backoff, not dropped.
        const before = attempts;
        await sleep(300);
        if (status !== null) {
          expect(attempts).toBeGreaterThan(before);
        }
        failing = false;
        server.mode = 'ok';
        await server.waitFor(1);
        await until(() => events.state.reason === null);
        expect(events.state).toMatchObject({ connected: true, waiting: 0 });
      });
    }

    it('learns the reason from the schema list too', async () => {
      server.override = route =>
        route === 'schemas'
          ? { status: 403, body: JSON.stringify({ message: 'Forbidden' }) }
          : undefined;
      const events = client();
      await expect(events.listSchemas()).rejects.toThrow();
      await until(() => events.state.reason !== null);
      expect(events.state.reason).toMatchObject({
        kind: 'not-authorized',
        status: 403
      });
    });

    const replies: [string, number, string][] = [
      ['a proxy’s HTML page', 200, '<html><body>Welcome</body></html>'],
      ['an empty reply', 204, ''],
      [
        'a count short of the batch',
        200,
        JSON.stringify({ accepted: 1, duplicates: 0, rejected: [] })
      ],
      [
        'a rejected index out of the batch',
        200,
        JSON.stringify({
          accepted: 1,
          duplicates: 0,
          rejected: [{ index: 7, message: 'x' }]
        })
      ]
    ];
    for (const [name, status, body] of replies) {
      it(`keeps and retries a batch after ${name}: a 2xx must account for every event`, async () => {
        let answering = true;
        server.override = (route, method) =>
          answering && route === 'events' && method === 'POST'
            ? { status, body, contentType: 'text/html' }
            : undefined;
        const events = client({ batchSize: 2 });
        await events.listSchemas();
        void events.emit(CELL_SCHEMA.id, started(1));
        await events.emit(CELL_SCHEMA.id, started(2));
        await until(() => events.state.reason !== null);
        expect(events.state).toMatchObject({
          waiting: 2,
          rejected: 0,
          reason: { kind: 'server-error' }
        });
        answering = false;
        await server.waitFor(2);
        await until(() => events.state.waiting === 0);
        expect(server.recorded.map(e => e.data.cell_id)).toEqual(['c1', 'c2']);
        expect(events.state.reason).toBeNull();
      });
    }
  });

  describe('storage', () => {
    it('emit says when an event is in this page’s memory only', async () => {
      const events = client({ indexedDB: null });
      await events.listSchemas();
      await expect(events.emit(CELL_SCHEMA.id, started(1))).resolves.toEqual({
        id: expect.any(String),
        durable: false
      });
      expect(events.state.durable).toBe(false);
      await server.waitFor(1);
    });
  });

  describe('leaving the page', () => {
    const big = (n: number) => ({
      phase: 'started',
      cell_id: `c${n}-${'x'.repeat(1000)}`
    });

    it('posts every waiting event with keepalive, in bodies of 64 KiB at most', async () => {
      const bodies: Promise<string>[] = [];
      const settings = server.settings;
      const events = client({
        batchInterval: 60 * 1000,
        batchSize: 1000,
        serverSettings: {
          ...settings,
          // JupyterLab hands fetch a Request.
          fetch: (request: RequestInfo) => {
            if ((request as Request).keepalive) {
              bodies.push((request as Request).clone().text());
            }
            return settings.fetch(request);
          }
        }
      });
      await events.listSchemas();
      const ids = (
        await Promise.all(
          Array.from({ length: 200 }, (_, i) =>
            events.emit(CELL_SCHEMA.id, big(i))
          )
        )
      ).map(emitted => emitted.id);
      window.dispatchEvent(new Event('pagehide'));
      await server.waitFor(200);
      expect(bodies.length).toBeGreaterThanOrEqual(4);
      for (const body of await Promise.all(bodies)) {
        expect(new TextEncoder().encode(body).length).toBeLessThanOrEqual(
          64 * 1024
        );
      }
      const posted = server.posts.flatMap(p => p.events.map(e => e.id));
      expect(posted).toEqual(ids);
    });

    it('posts nothing while the server does not take events: the next page sends them', async () => {
      server.mode = 'unavailable';
      let keepalive = 0;
      const settings = server.settings;
      const events = client({
        batchInterval: 50,
        serverSettings: {
          ...settings,
          fetch: (request: RequestInfo) => {
            if ((request as Request).keepalive) {
              keepalive++;
            }
            return settings.fetch(request);
          }
        }
      });
      await events.listSchemas();
      await events.emit(CELL_SCHEMA.id, started(1));
      await until(() => events.state.reason !== null);
      window.dispatchEvent(new Event('pagehide'));
      await sleep(100);
      expect(keepalive).toBe(0);

      // The same page once the server takes events again: posted.
      server.mode = 'ok';
      await server.waitFor(1);
      await until(() => events.state.waiting === 0);
      events.configure({ batchInterval: 200 });
      await events.emit(CELL_SCHEMA.id, started(2));
      window.dispatchEvent(new Event('pagehide'));
      await server.waitFor(2);
      expect(keepalive).toBe(1);
    });
  });

  it('is disposed once', () => {
    const events = client();
    events.dispose();
    events.dispose();
    expect(events.isDisposed).toBe(true);
  });
});
