import { type Event, EventManager } from '@jupyterlab/services';
import { IDBFactory } from 'fake-indexeddb';

import { EventsClient } from '../client/client';
import { EventValidationError } from '../client/validator';
import { ServedEventManager } from '../eventmanager/manager';
import { CELL_SCHEMA, FakeServer, SERVER_SCHEMA } from './fakeserver';
import { until } from './notifications';
import { SettingsConnector, settingRegistry } from './settings';
import { TestLab } from './lab';
import { shippedSchemas } from './shipped';

/**
 * A schema the server lists for no one to post here (an extension's own,
 * registered with jupyter_server's logger): the core's path.
 */
const OTHER = {
  schema_id: 'https://example.org/other-extension/click/v1',
  version: '1',
  data: { button: 'run' }
};

function cellRun(cellId: string): Event.Request {
  return {
    schema_id: CELL_SCHEMA.id,
    version: '1',
    data: { phase: 'started', cell_id: cellId }
  };
}

/**
 * A message of this extension's live stream, of `schema`.
 */
function streamed(seq: number, schema: string, data: Record<string, unknown>) {
  return JSON.stringify({
    seq,
    event: {
      __timestamp__: new Date(seq).toISOString(),
      __schema__: schema,
      __schema_version__: '1',
      __metadata_version__: 1,
      __id__: `id-${seq}`,
      ...data
    }
  });
}

describe('ServedEventManager', () => {
  let server: FakeServer;
  let client: EventsClient;
  let manager: ServedEventManager;

  beforeEach(async () => {
    server = await FakeServer.start();
    client = new EventsClient({
      serverSettings: server.settings,
      indexedDB: new IDBFactory(),
      storage: null,
      batchInterval: 20
    });
    manager = new ServedEventManager({
      serverSettings: server.settings,
      reconnectInterval: 20
    });
  });

  afterEach(async () => {
    manager.dispose();
    client.dispose();
    await server.close();
  });

  it('queues a schema this server lets clients post in the events client, recorded once', async () => {
    manager.attach(client);
    await manager.emit(cellRun('a'));
    expect(client.state.waiting + server.recorded.length).toBe(1);
    await client.flush();
    expect(server.recorded.map(event => event.data)).toEqual([
      { phase: 'started', cell_id: 'a' }
    ]);
    expect([...server.arrivals.values()]).toEqual([1]);
    expect(server.apiEvents).toEqual([]);
    await until(() => client.state.eventManager.queued === 1);
    expect(client.state.eventManager).toEqual({ queued: 1, posted: 0 });
  });

  it('posts any other schema to /api/events exactly as JupyterLab’s own manager does', async () => {
    manager.attach(client);
    await client.listSchemas();
    const core = new EventManager({ serverSettings: server.settings });
    try {
      await core.emit(OTHER);
      await manager.emit(OTHER);
      await manager.emit({ ...SERVER_SCHEMA_EVENT });
    } finally {
      core.dispose();
    }
    expect(server.apiEvents).toEqual([OTHER, OTHER, SERVER_SCHEMA_EVENT]);
    expect(server.recorded).toEqual([]);
    await until(() => client.state.eventManager.posted === 2);
    expect(client.state.eventManager).toEqual({ queued: 0, posted: 2 });
  });

  it('keeps what was emitted before the client came, and sends it in order once it does', async () => {
    await client.listSchemas();
    const emitted = [
      manager.emit(cellRun('1')),
      manager.emit(OTHER),
      manager.emit(cellRun('2'))
    ];
    let settled = 0;
    emitted.forEach(promise => void promise.then(() => settled++));
    await new Promise(resolve => setTimeout(resolve, 50));
    expect(settled).toBe(0);
    expect(client.state.waiting).toBe(0);
    expect(server.apiEvents).toEqual([]);

    manager.attach(client);
    await Promise.all(emitted);
    await client.flush();
    expect(server.recorded.map(event => event.data.cell_id)).toEqual([
      '1',
      '2'
    ]);
    expect(server.apiEvents).toEqual([OTHER]);
    await until(() => client.state.eventManager.posted === 1);
    expect(client.state.eventManager).toEqual({ queued: 2, posted: 1 });
  });

  it('waits for a first schema list before choosing the path', async () => {
    // No list yet (a first visit): the client is asked for it.
    manager.attach(client);
    await Promise.all([manager.emit(OTHER), manager.emit(cellRun('x'))]);
    await client.flush();
    expect(server.apiEvents).toEqual([OTHER]);
    expect(server.recorded.map(event => event.data.cell_id)).toEqual(['x']);
  });

  it('takes JupyterLab’s own path for every event without a client', async () => {
    const first = manager.emit(cellRun('before'));
    manager.attach(null);
    await first;
    await manager.emit(OTHER);
    expect(server.apiEvents).toEqual([cellRun('before'), OTHER]);
    expect(server.recorded).toEqual([]);
  });

  it('rejects an invalid event, as JupyterLab’s manager rejects a 400, and sends nothing', async () => {
    manager.attach(client);
    await client.listSchemas();
    await expect(
      manager.emit({
        schema_id: CELL_SCHEMA.id,
        version: '1',
        data: { phase: 'sideways' }
      })
    ).rejects.toBeInstanceOf(EventValidationError);
    await client.flush();
    expect(server.posts).toEqual([]);
    expect(server.apiEvents).toEqual([]);
    expect(client.state.eventManager).toEqual({ queued: 0, posted: 0 });
  });

  it('opens no live stream until its stream is read: emitting alone receives nothing', async () => {
    manager.attach(client);
    await manager.emit(cellRun('a'));
    await manager.emit(OTHER);
    await client.flush();
    await server.waitFor(1);
    expect(server.apiEvents).toHaveLength(1);
    expect(manager.isDisposed).toBe(false);
    expect(server.streams).toHaveLength(0);

    manager.stream.connect(() => undefined);
    await until(() => server.streams.length === 1);
    await until(() => manager.subscription.connected);
    expect(server.streams).toHaveLength(1);
  });

  it('streams jupyter_server’s events as the core stream does, and resumes after a reconnect', async () => {
    const received: Event.Emission[] = [];
    manager.stream.connect((_, emission) => received.push(emission));
    await until(() => manager.subscription.connected);
    server.streams[0].send(
      streamed(1, SERVER_SCHEMA.id, { action: 'save', path: 'a.ipynb' })
    );
    // A browser's event is not jupyter_server's: the core stream has none.
    server.streams[0].send(streamed(2, CELL_SCHEMA.id, { phase: 'started' }));
    await until(() => manager.subscription.lastSeq === 2);
    await until(() => received.length === 1);
    expect(received).toEqual([
      { schema_id: SERVER_SCHEMA.id, action: 'save', path: 'a.ipynb' }
    ]);
    expect(Object.keys(received[0])).toEqual(['schema_id', 'action', 'path']);

    server.streams[0].close(1001, 'Server restarting');
    await until(() => server.streams.length === 2);
    expect(server.streamUrls[1]).toContain('after=2');
    await until(() => manager.subscription.connected);
    server.streams[1].send(streamed(3, SERVER_SCHEMA.id, { action: 'rename' }));
    await until(() => received.length === 2);
    expect(received[1]).toEqual({
      schema_id: SERVER_SCHEMA.id,
      action: 'rename'
    });
  });

  it('goes on after a server restart, says so, and skips none of the new run’s events', async () => {
    const received: Event.Emission[] = [];
    manager.stream.connect((_, emission) => received.push(emission));
    const restarted: number[] = [];
    manager.subscription.restarted.connect((_, count) => restarted.push(count));
    await until(() => manager.subscription.connected);
    server.streams[0].send(JSON.stringify({ run_id: 'run-1', last_seq: 0 }));
    server.streams[0].send(streamed(1, SERVER_SCHEMA.id, { action: 'save' }));
    server.streams[0].send(streamed(2, SERVER_SCHEMA.id, { action: 'save' }));
    await until(() => received.length === 2);

    server.streams[0].close(1001, 'Server restarting');
    await until(() => server.streams.length === 2);
    expect(server.streamUrls[1]).toContain('after=2&run_id=run-1');
    await until(() => manager.subscription.connected);
    // A new run: its events count from 1 again, below the last seen.
    server.streams[1].send(JSON.stringify({ run_id: 'run-2', last_seq: 1 }));
    server.streams[1].send(JSON.stringify({ missed: 0, restarted: true }));
    server.streams[1].send(streamed(1, SERVER_SCHEMA.id, { action: 'rename' }));
    await until(() => received.length === 3);
    expect(received[2]).toEqual({
      schema_id: SERVER_SCHEMA.id,
      action: 'rename'
    });
    expect(restarted).toEqual([0]);
  });
});

const SERVER_SCHEMA_EVENT = {
  schema_id: SERVER_SCHEMA.id,
  version: '1',
  data: { action: 'save' }
};

describe('the event manager plugin', () => {
  let server: FakeServer;
  let lab: TestLab | null = null;

  beforeEach(async () => {
    server = await FakeServer.start(shippedSchemas());
  });

  afterEach(async () => {
    lab?.dispose();
    lab = null;
    await server.close();
  });

  it('serves IEventManager with the events client the client plugin made', async () => {
    lab = await TestLab.start(server, {
      registry: await settingRegistry(new SettingsConnector())
    });
    expect(lab.events).toBeInstanceOf(ServedEventManager);
    await lab.events!.emit({
      schema_id: 'https://events.jupyter.org/jupyter_events_ext/command/v1',
      version: '1',
      data: { command_id: 'test:run' }
    });
    await lab.client.flush();
    expect(server.recorded.map(event => event.data)).toEqual([
      { command_id: 'test:run' }
    ]);
    await until(() => lab!.client.state.eventManager.queued === 1);
  });

  it('takes JupyterLab’s own path when the client plugin is not there', async () => {
    lab = await TestLab.start(server, {
      registry: await settingRegistry(new SettingsConnector()),
      without: [
        'jupyter-events-ext:plugin',
        'jupyter-events-ext:capture',
        'jupyter-events-ext:consent',
        'jupyter-events-ext:viewer',
        'jupyter-events-ext:status'
      ]
    });
    await lab.events!.emit(OTHER);
    expect(server.apiEvents).toEqual([OTHER]);
  });
});

describe('with JupyterLab before 4.4 (no IEventManager token)', () => {
  it('leaves the event manager plugin out, and the rest as it is', async () => {
    await jest.isolateModulesAsync(async () => {
      jest.doMock('@jupyterlab/services', () => ({
        ...jest.requireActual('@jupyterlab/services'),
        IEventManager: undefined,
        IServerSettings: undefined
      }));
      const ids = (await import('../index')).default.map(plugin => plugin.id);
      expect(ids).not.toContain('jupyter-events-ext:event-manager');
      expect(ids).toContain('jupyter-events-ext:plugin');
      // The client's side finds JupyterLab's own manager, and leaves it be.
      const { eventManagerClientPlugin } =
        await import('../eventmanager/plugin');
      const events = { emit: jest.fn() };
      eventManagerClientPlugin.activate(
        { serviceManager: { events } } as any,
        { emit: jest.fn() } as any
      );
      expect(events.emit).not.toHaveBeenCalled();
    });
    jest.dontMock('@jupyterlab/services');
  });
});
