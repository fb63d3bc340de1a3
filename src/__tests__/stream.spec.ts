import { StreamSubscription } from '../stream/subscription';
import type { IEventsClient } from '../tokens';
import { FakeServer } from './fakeserver';

function envelope(n: number, schema = 'https://example.org/a/v1') {
  return {
    seq: n,
    event: {
      __timestamp__: new Date(n).toISOString(),
      __schema__: schema,
      __schema_version__: '1',
      __metadata_version__: 1,
      n
    }
  };
}

async function until(check: () => boolean, timeout = 5000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeout) {
      throw new Error('timed out');
    }
    await new Promise(resolve => setTimeout(resolve, 10));
  }
}

describe('StreamSubscription', () => {
  let server: FakeServer;
  let stream: StreamSubscription | null = null;

  beforeEach(async () => {
    server = await FakeServer.start();
  });

  afterEach(async () => {
    stream?.dispose();
    await server.close();
  });

  it('asks for its schemas with the token and emits each message', async () => {
    stream = new StreamSubscription({
      serverSettings: server.settings,
      schemaIds: ['https://example.org/a/v1', 'https://example.org/b/v1']
    });
    const received: IEventsClient.IStreamMessage[] = [];
    stream.stream.connect((_, message) => received.push(message));
    const states: boolean[] = [];
    stream.connectionChanged.connect((_, connected) => states.push(connected));

    await until(() => server.streams.length === 1 && stream!.connected);
    expect(server.streamUrls[0]).toBe(
      '/a%40b/jupyter-events-ext/stream?schema_id=https%3A%2F%2Fexample.org%2Fa%2Fv1&schema_id=https%3A%2F%2Fexample.org%2Fb%2Fv1&token=secret'
    );
    server.streams[0].send(JSON.stringify(envelope(1)));
    server.streams[0].send(JSON.stringify(envelope(2)));
    await until(() => received.length === 2);
    expect(received.map(m => m.seq)).toEqual([1, 2]);
    expect(received[0].event.n).toBe(1);
    expect(stream.lastSeq).toBe(2);
    expect(states).toEqual([true]);
  });

  it('reconnects by itself and resumes after the last event it saw', async () => {
    stream = new StreamSubscription({
      serverSettings: server.settings,
      reconnectInterval: 20
    });
    await until(() => stream!.connected);
    server.streams[0].send(JSON.stringify(envelope(41)));
    await until(() => stream!.lastSeq === 41);

    server.streams[0].close(1001, 'Server restarting');
    await until(() => server.streams.length === 2);
    expect(server.streamUrls[1]).toContain('after=41');
    await until(() => stream!.connected);
  });

  it('signals the events the server no longer had when it resumed', async () => {
    stream = new StreamSubscription({
      serverSettings: server.settings,
      after: 3
    });
    const missed: number[] = [];
    stream.missed.connect((_, count) => missed.push(count));
    const received: number[] = [];
    stream.stream.connect((_, message) => received.push(message.seq));
    await until(() => stream!.connected);

    server.streams[0].send(JSON.stringify({ missed: 7 }));
    server.streams[0].send(JSON.stringify(envelope(11)));
    await until(() => received.length === 1);
    expect(missed).toEqual([7]);
    expect(received).toEqual([11]);
    expect(stream.lastSeq).toBe(11);
  });

  it('resumes in the server run it saw; after a restart it skips nothing and says so', async () => {
    stream = new StreamSubscription({
      serverSettings: server.settings,
      reconnectInterval: 20
    });
    const received: number[] = [];
    stream.stream.connect((_, message) => received.push(message.seq));
    const missed: number[] = [];
    stream.missed.connect((_, count) => missed.push(count));
    const restarted: number[] = [];
    stream.restarted.connect((_, count) => restarted.push(count));
    await until(() => stream!.connected);
    server.streams[0].send(JSON.stringify({ run_id: 'run-1', last_seq: 2 }));
    server.streams[0].send(JSON.stringify(envelope(3)));
    await until(() => stream!.lastSeq === 3);
    expect(stream.runId).toBe('run-1');

    // Same run: resume after 3 in run-1.
    server.streams[0].close(1001, 'Going away');
    await until(() => server.streams.length === 2);
    expect(server.streamUrls[1]).toContain('after=3&run_id=run-1');
    await until(() => stream!.connected);
    server.streams[1].send(JSON.stringify({ run_id: 'run-1', last_seq: 5 }));
    server.streams[1].send(JSON.stringify({ missed: 1 }));
    server.streams[1].send(JSON.stringify(envelope(5)));
    await until(() => stream!.lastSeq === 5);

    // The server restarted: its new run counts from 1 again.
    server.streams[1].close(1001, 'Server restarting');
    await until(() => server.streams.length === 3);
    expect(server.streamUrls[2]).toContain('after=5&run_id=run-1');
    await until(() => stream!.connected);
    server.streams[2].send(JSON.stringify({ run_id: 'run-2', last_seq: 2 }));
    server.streams[2].send(JSON.stringify({ missed: 0, restarted: true }));
    server.streams[2].send(JSON.stringify(envelope(1)));
    server.streams[2].send(JSON.stringify(envelope(2)));
    await until(() => received.length === 4);
    expect(received).toEqual([3, 5, 1, 2]);
    expect(missed).toEqual([1, 0]);
    expect(restarted).toEqual([0]);
    expect(stream.runId).toBe('run-2');
    expect(stream.lastSeq).toBe(2);

    server.streams[2].close(1001, 'Going away');
    await until(() => server.streams.length === 4);
    expect(server.streamUrls[3]).toContain('after=2&run_id=run-2');
  });

  it('after a restart with nothing replayed, resumes from the start of the new run', async () => {
    stream = new StreamSubscription({
      serverSettings: server.settings,
      reconnectInterval: 20,
      after: 40
    });
    await until(() => stream!.connected);
    server.streams[0].send(JSON.stringify({ run_id: 'run-2', last_seq: 0 }));
    server.streams[0].send(JSON.stringify({ missed: 0, restarted: true }));
    await until(() => stream!.lastSeq === 0);
    server.streams[0].close(1001, 'Going away');
    await until(() => server.streams.length === 2);
    expect(server.streamUrls[1]).toContain('after=0&run_id=run-2');
  });

  for (const [status, kind] of [
    [403, 'not-authorized'],
    [404, 'not-installed']
  ] as const) {
    it(`asks the server why the socket cannot open: ${status} is ${kind}`, async () => {
      server.refuseStreams = status;
      server.override = route =>
        route === 'info'
          ? { status, body: JSON.stringify({ message: 'Forbidden' }) }
          : undefined;
      stream = new StreamSubscription({
        serverSettings: server.settings,
        reconnectInterval: 20,
        maxReconnectInterval: 50
      });
      const changes: boolean[] = [];
      stream.connectionChanged.connect((_, connected) =>
        changes.push(connected)
      );
      await until(() => stream!.reason !== null);
      expect(stream.reason).toMatchObject({ kind, status });
      expect(stream.connected).toBe(false);
      expect(changes).toContain(false);

      server.refuseStreams = null;
      server.override = () => undefined;
      await until(() => stream!.connected);
      expect(stream.reason).toBeNull();
    });
  }

  it('says the socket alone is refused when the server answers GET info (429)', async () => {
    server.refuseStreams = 429;
    stream = new StreamSubscription({
      serverSettings: server.settings,
      reconnectInterval: 20,
      maxReconnectInterval: 50
    });
    await until(() => stream!.reason !== null);
    expect(stream.reason).toBe(StreamSubscription.REFUSED);
    expect(stream.reason!.message).toContain('refuses the live stream');
    expect(stream.connected).toBe(false);

    server.refuseStreams = null;
    await until(() => stream!.connected);
    expect(stream.reason).toBeNull();
  });

  it('backs off while the server cannot be reached', async () => {
    const closed = await FakeServer.start();
    await closed.close();
    stream = new StreamSubscription({
      serverSettings: closed.settings,
      reconnectInterval: 10,
      maxReconnectInterval: 50
    });
    await new Promise(resolve => setTimeout(resolve, 200));
    expect(stream.connected).toBe(false);
  });

  it('ignores what is not an event message', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    stream = new StreamSubscription({ serverSettings: server.settings });
    const received: unknown[] = [];
    stream.stream.connect((_, message) => received.push(message));
    await until(() => stream!.connected);
    server.streams[0].send('not json');
    server.streams[0].send(JSON.stringify({ message: 'You fell behind.' }));
    server.streams[0].send(JSON.stringify(envelope(7)));
    await until(() => received.length === 1);
    expect(warn).toHaveBeenCalledTimes(2);
    warn.mockRestore();
  });

  it('closes its socket when disposed, once', async () => {
    stream = new StreamSubscription({ serverSettings: server.settings });
    await until(() => stream!.connected);
    stream.dispose();
    stream.dispose();
    expect(stream.isDisposed).toBe(true);
    expect(stream.connected).toBe(false);
    await until(
      () => server.streams[0].readyState === server.streams[0].CLOSED
    );
  });
});
