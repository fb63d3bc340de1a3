import { IDBFactory } from 'fake-indexeddb';

import { EventsClient } from '../client/client';
import type { IEventsClient } from '../tokens';
import { CELL_SCHEMA, FakeServer, SERVER_SCHEMA } from './fakeserver';

const started = (n: number) => ({ phase: 'started', cell_id: `c${n}` });

/**
 * The ways batches reach the server: the events socket (the default), and
 * POST, which the client falls back to when the socket cannot open.
 */
const TRANSPORTS = ['events socket', 'POST, the socket refused'] as const;

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

  /**
   * A client that sends only when flushed or when the page leaves, and the
   * bodies of its `keepalive` requests.
   */
  function keepaliveClient(): {
    events: EventsClient;
    keepalive: Promise<string>[];
  } {
    const keepalive: Promise<string>[] = [];
    const settings = server.settings;
    const events = client({
      batchInterval: 60 * 1000,
      serverSettings: {
        ...settings,
        fetch: (request: RequestInfo) => {
          if ((request as Request).keepalive) {
            keepalive.push((request as Request).clone().text());
          }
          return settings.fetch(request);
        }
      }
    });
    return { events, keepalive };
  }

  beforeEach(async () => {
    server = await FakeServer.start();
    factory = new IDBFactory();
  });

  /**
   * Make the tests of a describe block run over this transport.
   */
  function refuseSocketsFor(transport: (typeof TRANSPORTS)[number]): void {
    beforeEach(() => {
      // As a server without the route, or a proxy without WebSockets.
      server.refuseEventSockets = transport === 'events socket' ? null : 404;
    });
  }

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

    it('records every one of 10,000 events emitted at once', async () => {
      // How cheap an emit is, is measured by the browser benchmark
      // (scripts/bench-browser.sh, emit), not here.
      const events = client({ batchSize: 1000, queueBound: 20000 });
      await events.listSchemas();
      for (let i = 0; i < 10000; i++) {
        void events.emit(CELL_SCHEMA.id, started(i));
      }
      await server.waitFor(10000, 20000);
      const ids = server.posts.flatMap(p => p.events.map(e => e.id));
      expect(new Set(ids).size).toBe(10000);
      expect(events.state.dropped).toBe(0);
    });
  });

  for (const transport of TRANSPORTS) {
    describe(`durable queue and retries (${transport})`, () => {
      refuseSocketsFor(transport);

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

    describe(`what each answer means (${transport})`, () => {
      refuseSocketsFor(transport);

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
          // The server refuses the socket itself when not authorized, and has
          // no socket route when the extension is not there: the browser falls
          // back to POST, whose status says why.
          const upgrade =
            transport === 'events socket' && status !== null && status < 500;
          if (upgrade) {
            server.refuseEventSockets = status;
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
          if (upgrade) {
            server.refuseEventSockets = null;
          }
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
          expect(server.recorded.map(e => e.data.cell_id)).toEqual([
            'c1',
            'c2'
          ]);
          expect(events.state.reason).toBeNull();
        });
      }
    });
  }

  describe('the events socket', () => {
    const ids = () => server.recorded.map(e => e.data.cell_id);

    it('sends batches on one socket, with the token, and each event is recorded once', async () => {
      const events = client({ batchSize: 2 });
      await events.listSchemas();
      for (let i = 0; i < 5; i++) {
        void events.emit(CELL_SCHEMA.id, started(i));
      }
      await server.waitFor(5);
      await until(() => events.state.waiting === 0);
      expect(ids()).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
      expect(server.posts.map(p => p.transport)).toEqual([
        'socket',
        'socket',
        'socket'
      ]);
      expect(server.eventSocketUrls).toEqual([
        '/a%40b/jupyter-events-ext/events/socket?token=secret'
      ]);
      expect([...server.arrivals.values()]).toEqual([1, 1, 1, 1, 1]);
      expect(events.state).toMatchObject({
        connected: true,
        rejected: 0,
        transport: 'socket'
      });
    });

    it('opens no socket while there is nothing to send', async () => {
      const events = client();
      await events.listSchemas();
      await sleep(200);
      expect(server.eventSockets).toHaveLength(0);
      await events.emit(CELL_SCHEMA.id, started(1));
      await server.waitFor(1);
      expect(server.eventSockets).toHaveLength(1);
    });

    it('sends again on a new socket a batch whose socket closed before its answer; the server counts the duplicate', async () => {
      const events = client();
      await events.listSchemas();
      await events.emit(CELL_SCHEMA.id, started(0));
      await server.waitFor(1);
      await until(() => events.state.waiting === 0);
      server.mode = 'lost';
      await events.emit(CELL_SCHEMA.id, started(1));
      await server.waitFor(2);
      expect(server.eventSockets).toHaveLength(1);
      await until(() => events.state.reason !== null);
      expect(events.state.reason).toMatchObject({ kind: 'unreachable' });
      server.mode = 'ok';
      await until(() => events.state.waiting === 0);
      expect(ids()).toEqual(['c0', 'c1']);
      expect(server.arrivals.get(server.recorded[1].id)).toBe(2);
      expect(server.eventSockets.length).toBeGreaterThanOrEqual(2);
      expect(server.posts.every(p => p.transport === 'socket')).toBe(true);
    });

    it('gives up an answer that does not come in time, on a socket of its own: a late answer is never taken for another’s', async () => {
      let hang = false;
      server.override = (route, method) =>
        hang && route === 'events' && method === 'POST' ? 'hang' : undefined;
      const events = client({ requestTimeout: 300 });
      await events.listSchemas();
      // The socket answers once, so that a silence later is taken for a lost
      // answer, not for a socket that cannot work.
      await events.emit(CELL_SCHEMA.id, started(0));
      await server.waitFor(1);
      await until(() => events.state.waiting === 0);
      hang = true;
      await events.emit(CELL_SCHEMA.id, started(1));
      await until(() => events.state.reason !== null);
      expect(events.state).toMatchObject({
        waiting: 1,
        reason: { kind: 'unreachable' }
      });
      // The client closed the socket it gave up on.
      const first = server.eventSockets[0];
      await until(() => first.readyState === first.CLOSED);
      hang = false;
      await server.waitFor(2);
      await until(() => events.state.waiting === 0);
      expect(server.eventSockets.length).toBeGreaterThanOrEqual(2);
      expect(server.posts.every(p => p.transport === 'socket')).toBe(true);

      // A late answer, were it read, would refuse the next event.
      first.send(JSON.stringify({ status: 400, message: 'late' }));
      server.release();
      await events.emit(CELL_SCHEMA.id, started(2));
      await server.waitFor(3);
      await until(() => events.state.waiting === 0);
      expect(ids()).toEqual(['c0', 'c1', 'c2']);
      expect(events.state).toMatchObject({ rejected: 0, reason: null });
    });

    it('posts when the socket cannot open, for a while, then tries the socket again', async () => {
      server.refuseEventSockets = 404;
      const events = client({ socket: { fallbackPeriod: 700 } });
      await events.listSchemas();
      await events.emit(CELL_SCHEMA.id, started(1));
      await server.waitFor(1);
      expect(server.refusedEventSockets).toBe(1);
      await until(() => events.state.transport === 'post');
      // The socket would open now, but the client does not try it yet.
      server.refuseEventSockets = null;
      await events.emit(CELL_SCHEMA.id, started(2));
      await server.waitFor(2);
      expect(server.eventSockets).toHaveLength(0);

      await sleep(800);
      await events.emit(CELL_SCHEMA.id, started(3));
      await server.waitFor(3);
      await until(() => events.state.waiting === 0);
      expect(server.posts.map(p => p.transport)).toEqual([
        'post',
        'post',
        'socket'
      ]);
      expect(ids()).toEqual(['c1', 'c2', 'c3']);
      expect([...server.arrivals.values()]).toEqual([1, 1, 1]);
      await until(() => events.state.transport === 'socket');
      expect(server.refusedEventSockets).toBe(1);
      expect(server.eventSockets).toHaveLength(1);
    });

    it('posts, for a while, when sockets open but never answer (a proxy that passes the upgrade, not the messages)', async () => {
      server.dropEventSockets = true;
      const events = client({ socket: { fallbackPeriod: 60 * 1000 } });
      await events.listSchemas();
      await events.emit(CELL_SCHEMA.id, started(1));
      await server.waitFor(1);
      await events.emit(CELL_SCHEMA.id, started(2));
      await server.waitFor(2);
      await until(() => events.state.waiting === 0);
      expect(server.eventSockets).toHaveLength(1);
      expect(server.posts.map(p => p.transport)).toEqual(['post', 'post']);
      expect([...server.arrivals.values()]).toEqual([1, 1]);
    });

    it('says why from a refusal answered on the socket, as from a POST’s', async () => {
      let refusing = true;
      server.override = (route, method) =>
        refusing && route === 'events' && method === 'POST'
          ? { status: 403, body: JSON.stringify({ message: 'No' }) }
          : undefined;
      const events = client();
      await events.listSchemas();
      await events.emit(CELL_SCHEMA.id, started(1));
      await until(() => events.state.reason !== null);
      expect(events.state).toMatchObject({
        waiting: 1,
        reason: {
          kind: 'not-authorized',
          status: 403,
          message: 'Not authorized to record events (403: No).'
        }
      });
      expect(server.refusedEventSockets).toBe(0);
      refusing = false;
      await server.waitFor(1);
      await until(() => events.state.reason === null);
      expect(server.posts.every(p => p.transport === 'socket')).toBe(true);
    });

    it('splits a batch the socket answers 400 for, as a POST’s', async () => {
      let refusals = 2;
      server.override = (route, method) =>
        route === 'events' && method === 'POST' && refusals-- > 0
          ? { status: 400, body: JSON.stringify({ message: 'Malformed' }) }
          : undefined;
      const events = client({ batchSize: 4, batchInterval: 100 });
      await events.listSchemas();
      for (let i = 0; i < 4; i++) {
        void events.emit(CELL_SCHEMA.id, started(i));
      }
      await server.waitFor(4);
      await until(() => events.state.waiting === 0);
      // Four refused, then two refused: the first batch recorded holds one.
      expect(server.posts[0].events).toHaveLength(1);
      expect(ids()).toEqual(['c0', 'c1', 'c2', 'c3']);
      expect(events.state).toMatchObject({ rejected: 0, reason: null });
      expect(server.posts.every(p => p.transport === 'socket')).toBe(true);
    });

    it('splits a batch too large for the socket to read (closed with 1009)', async () => {
      server.maxMessageBytes = 700;
      const events = client({ batchSize: 8, batchInterval: 100 });
      await events.listSchemas();
      for (let i = 0; i < 8; i++) {
        void events.emit(CELL_SCHEMA.id, started(i));
      }
      await server.waitFor(8);
      await until(() => events.state.waiting === 0);
      expect(ids()).toEqual(Array.from({ length: 8 }, (_, i) => `c${i}`));
      expect(events.state).toMatchObject({ rejected: 0, reason: null });
      // Each batch that was read fits; the socket was closed for the others.
      for (const { events: batch } of server.posts) {
        expect(batch.length).toBeLessThan(8);
      }
      expect(server.eventSockets.length).toBeGreaterThan(1);
      expect(server.posts.every(p => p.transport === 'socket')).toBe(true);
    });

    it('closes the socket after a while with nothing to send, and opens another for the next batch', async () => {
      const events = client({ socket: { idleTimeout: 200 } });
      await events.listSchemas();
      await events.emit(CELL_SCHEMA.id, started(1));
      await server.waitFor(1);
      const first = server.eventSockets[0];
      expect(first.readyState).toBe(first.OPEN);
      await until(() => first.readyState === first.CLOSED, 2000);

      await events.emit(CELL_SCHEMA.id, started(2));
      await server.waitFor(2);
      expect(server.eventSockets).toHaveLength(2);
      expect(events.state.reason).toBeNull();
    });

    it('keeps the socket open while batches follow each other', async () => {
      const events = client({ socket: { idleTimeout: 300 } });
      await events.listSchemas();
      for (let i = 0; i < 6; i++) {
        await events.emit(CELL_SCHEMA.id, started(i));
        await server.waitFor(i + 1);
        await sleep(100);
      }
      expect(server.eventSockets).toHaveLength(1);
    });

    it('closes the socket when disposed', async () => {
      const events = client();
      await events.listSchemas();
      await events.emit(CELL_SCHEMA.id, started(1));
      await server.waitFor(1);
      const first = server.eventSockets[0];
      expect(first.readyState).toBe(first.OPEN);
      events.dispose();
      await until(() => first.readyState === first.CLOSED, 2000);
    });

    it('says the page is leaving before it posts what waits: what is emitted then goes too', async () => {
      const { events, keepalive } = keepaliveClient();
      await events.listSchemas();
      const { id: waiting } = await events.emit(CELL_SCHEMA.id, started(1));
      let held: Promise<IEventsClient.IEmitted> | null = null;
      events.leaving.connect(() => {
        held = events.emit(CELL_SCHEMA.id, started(2));
      });
      window.dispatchEvent(new Event('pagehide'));
      expect(held).not.toBeNull();
      const { id: released } = await held!;
      await server.waitFor(2);
      const bodies = await Promise.all(keepalive);
      expect(bodies).toHaveLength(1);
      expect(JSON.parse(bodies[0]).events.map((e: any) => e.id)).toEqual([
        waiting,
        released
      ]);
      expect(server.arrivals.get(released)).toBe(1);
    });

    it('leaves out of the keepalive POST on leaving the page what waits for its answer on the socket', async () => {
      server.delay = 500;
      const { events, keepalive } = keepaliveClient();
      await events.listSchemas();
      const { id: sent } = await events.emit(CELL_SCHEMA.id, started(1));
      const flushed = events.flush();
      await until(() => server.posts.length === 1);
      const { id: waiting } = await events.emit(CELL_SCHEMA.id, started(2));
      window.dispatchEvent(new Event('pagehide'));
      await server.waitFor(2);
      const bodies = await Promise.all(keepalive);
      expect(bodies).toHaveLength(1);
      expect(JSON.parse(bodies[0]).events.map((e: any) => e.id)).toEqual([
        waiting
      ]);
      // The flush goes on with the second event, still stored: a duplicate.
      await flushed;
      expect(server.posts.map(p => p.transport)).toEqual([
        'socket',
        'post',
        'socket'
      ]);
      expect(server.arrivals.get(sent)).toBe(1);
      expect(server.arrivals.get(waiting)).toBe(2);
    });
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

    it('validates what was queued before the schema list: an invalid event is not posted', async () => {
      let hang = true;
      server.override = route =>
        route === 'schemas' && hang ? 'hang' : undefined;
      const { events, keepalive } = keepaliveClient();
      await events.emit(CELL_SCHEMA.id, started(1));
      await events.emit(CELL_SCHEMA.id, { phase: 1 });
      hang = false;
      server.release();
      await events.listSchemas();
      window.dispatchEvent(new Event('pagehide'));
      await server.waitFor(1);
      const posted = (await Promise.all(keepalive)).flatMap(
        body => JSON.parse(body).events
      );
      expect(posted.map((e: any) => [e.data.cell_id, e.version])).toEqual([
        ['c1', '1']
      ]);
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
