import { Signal, Stream } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import type { IEventsClient } from '../tokens';
import { EventViewer } from '../viewer';
import { CELL_SCHEMA, SERVER_SCHEMA } from './fakeserver';

const COMMAND = 'https://events.jupyter.org/jupyter_events_ext/command/v1';

class FakeSubscription implements IEventsClient.ISubscription {
  connected = false;
  connectionChanged = new Signal<this, boolean>(this);
  reason: IEventsClient.IReason | null = null;
  lastSeq: number | null = null;
  runId: string | null = null;
  missed = new Signal<this, number>(this);
  restarted = new Signal<this, number>(this);
  stream = new Stream<this, IEventsClient.IStreamMessage>(this);
  isDisposed = false;
  dispose() {
    this.isDisposed = true;
  }
}

class FakeClient {
  subscription = new FakeSubscription();
  state: IEventsClient.IState = {
    connected: true,
    reason: null,
    durable: true,
    waiting: 0,
    dropped: 0,
    rejected: 0
  };
  stateChanged = new Signal<this, IEventsClient.IState>(this);
  subscribe() {
    return this.subscription;
  }
  listSchemas() {
    return Promise.resolve([CELL_SCHEMA, SERVER_SCHEMA]);
  }
}

let seq = 0;
function send(client: FakeClient, schema: string, data: object) {
  client.subscription.stream.emit({
    seq: ++seq,
    event: {
      __timestamp__: '2026-11-23T18:36:17.058Z',
      __schema__: schema,
      __schema_version__: '1',
      __metadata_version__: 1,
      ...data
    }
  });
}

describe('EventViewer', () => {
  let client: FakeClient;
  let viewer: EventViewer;
  const rows = () =>
    Array.from(
      viewer.node.querySelectorAll<HTMLDetailsElement>('.jp-EventViewer-row')
    );
  const visible = () => rows().filter(row => !row.hidden);
  const text = (selector: string) =>
    viewer.node.querySelector(selector)!.textContent;

  beforeEach(async () => {
    client = new FakeClient();
    viewer = new EventViewer({
      client: client as unknown as IEventsClient,
      maxRows: 3
    });
    Widget.attach(viewer, document.body);
    await Promise.resolve();
  });

  afterEach(() => {
    viewer.dispose();
  });

  it('shows each event as time, schema, version and summary; newest first', () => {
    send(client, CELL_SCHEMA.id, { phase: 'started', cell_id: 'c1' });
    send(client, COMMAND, { command_id: 'notebook:run-cell', args: { a: 1 } });
    const [newest, oldest] = rows();
    expect(newest.querySelector('.jp-EventViewer-schema')!.textContent).toBe(
      'command'
    );
    expect(newest.querySelector('.jp-EventViewer-text')!.textContent).toBe(
      'command_id=notebook:run-cell  args={…}'
    );
    expect(oldest.querySelector('.jp-EventViewer-version')!.textContent).toBe(
      'v1'
    );
    expect(oldest.querySelector('time')!.dateTime).toBe(
      '2026-11-23T18:36:17.058Z'
    );
  });

  it('expands a row to the full JSON', () => {
    send(client, CELL_SCHEMA.id, { phase: 'started' });
    const [row] = rows();
    expect(row.querySelector('pre')).toBeNull();
    row.open = true;
    row.dispatchEvent(new Event('toggle'));
    expect(JSON.parse(row.querySelector('pre')!.textContent!)).toMatchObject({
      __schema__: CELL_SCHEMA.id,
      phase: 'started'
    });
  });

  it('filters by schema, including rows that were already there', () => {
    send(client, CELL_SCHEMA.id, { phase: 'started' });
    send(client, COMMAND, { command_id: 'x' });
    const select = viewer.node.querySelector('select')!;
    expect(Array.from(select.options).map(o => o.value)).toEqual([
      '',
      CELL_SCHEMA.id,
      COMMAND,
      SERVER_SCHEMA.id
    ]);
    select.value = COMMAND;
    select.dispatchEvent(new Event('change'));
    expect(visible().map(row => row.dataset.schema)).toEqual([COMMAND]);
    send(client, CELL_SCHEMA.id, { phase: 'finished' });
    expect(visible().map(row => row.dataset.schema)).toEqual([COMMAND]);
    viewer.filter = null;
    expect(visible()).toHaveLength(3);
  });

  it('holds events back while paused and shows them on resume', () => {
    const pause = viewer.node.querySelector<HTMLButtonElement>(
      '.jp-EventViewer-pause'
    )!;
    pause.click();
    send(client, COMMAND, { command_id: 'a' });
    send(client, COMMAND, { command_id: 'b' });
    expect(rows()).toHaveLength(0);
    expect(pause.textContent).toBe('Resume (2 new)');
    pause.click();
    expect(rows()).toHaveLength(2);
    expect(pause.textContent).toBe('Pause');
  });

  it('keeps the newest rows only, and clears', () => {
    for (const id of ['a', 'b', 'c', 'd']) {
      send(client, COMMAND, { command_id: id });
    }
    expect(
      rows().map(r => r.textContent!.match(/command_id=(\w)/)![1])
    ).toEqual(['d', 'c', 'b']);
    viewer.node
      .querySelector<HTMLButtonElement>('.jp-EventViewer-clear')!
      .click();
    expect(rows()).toHaveLength(0);
    expect(text('.jp-EventViewer-empty')).toBe('Waiting for events…');
  });

  it('shows the connection and what waits to be sent', async () => {
    expect(text('.jp-EventViewer-connection')).toBe('Reconnecting…');
    client.subscription.connected = true;
    client.subscription.connectionChanged.emit(true);
    expect(text('.jp-EventViewer-connection')).toBe('Live');

    client.state = {
      connected: false,
      reason: {
        kind: 'unreachable',
        status: null,
        message: 'The server cannot be reached; retrying.'
      },
      durable: true,
      waiting: 12,
      dropped: 3,
      rejected: 0
    };
    client.stateChanged.emit(client.state);
    expect(text('.jp-EventViewer-delivery')).toBe(
      '12 waiting to be sent · 3 dropped (queue or storage full) · The server cannot be reached; retrying.'
    );
    expect(
      viewer.node.querySelector<HTMLElement>('.jp-EventViewer-delivery')!
        .dataset.state
    ).toBe('unreachable');

    client.state = { ...client.state, reason: null, durable: false };
    client.stateChanged.emit(client.state);
    expect(text('.jp-EventViewer-delivery')).toBe(
      '12 waiting to be sent · kept in memory only · 3 dropped (queue or storage full)'
    );
  });

  it('says how many events were missed while it was disconnected', () => {
    client.subscription.connected = true;
    client.subscription.connectionChanged.emit(true);
    client.subscription.missed.emit(5000); // on opening: older history, not a gap
    expect(text('.jp-EventViewer-connection')).toBe('Live');
    client.subscription.lastSeq = 12;
    client.subscription.missed.emit(40);
    client.subscription.missed.emit(2);
    expect(text('.jp-EventViewer-connection')).toBe(
      'Live · 42 missed while disconnected'
    );
  });

  it('says when the server restarted, and what it missed', () => {
    client.subscription.connected = true;
    client.subscription.connectionChanged.emit(true);
    client.subscription.lastSeq = 12;
    client.subscription.missed.emit(3);
    client.subscription.restarted.emit(3);
    expect(text('.jp-EventViewer-connection')).toBe(
      'Live · the server restarted · 3 missed while disconnected'
    );
    expect(
      viewer.node.querySelector<HTMLElement>('.jp-EventViewer-connection')!
        .title
    ).toContain('may be missing');
  });

  it('shows why the stream cannot open rather than “Reconnecting…”', () => {
    client.subscription.reason = {
      kind: 'not-installed',
      status: 404,
      message:
        'The jupyter_events_ext server extension is not installed or not enabled on this server (404).'
    };
    client.subscription.connectionChanged.emit(false);
    const connection = viewer.node.querySelector<HTMLElement>(
      '.jp-EventViewer-connection'
    )!;
    expect(connection.textContent).toBe(
      'The jupyter_events_ext server extension is not installed or not enabled on this server (404).'
    );
    expect(connection.dataset.state).toBe('not-installed');
  });

  it('lists the registered schemas with their descriptions', () => {
    const cards = Array.from(
      viewer.node.querySelectorAll<HTMLElement>('.jp-EventViewer-schemaCard')
    );
    expect(cards.map(card => card.dataset.schema)).toEqual([
      CELL_SCHEMA.id,
      SERVER_SCHEMA.id
    ]);
    expect(cards[0].textContent).toContain(
      'A notebook code cell started or finished executing.'
    );
    expect(cards[0].textContent).toContain('from this browser');
    expect(cards[1].textContent).not.toContain('from this browser');
  });

  it('closes its subscription when disposed', () => {
    viewer.dispose();
    expect(client.subscription.isDisposed).toBe(true);
  });
});
