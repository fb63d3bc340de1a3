import type { ITranslator, TranslationBundle } from '@jupyterlab/translation';
import { MessageLoop } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';
import { IDBFactory } from 'fake-indexeddb';

import { EventsClient } from '../client/client';
import type { IEventsClient } from '../tokens';
import { formatEventTime } from '../viewer/rows';
import { EventViewer } from '../viewer/widget';
import { CELL_SCHEMA, FakeServer, SERVER_SCHEMA } from './fakeserver';
import { COMMAND, FakeClient, NOW, send } from './viewerclient';

describe('EventViewer', () => {
  let client: FakeClient;
  let viewer: EventViewer;
  let opened: number;
  const rows = () => {
    // What arrived is rendered at the next frame (an update request).
    MessageLoop.flush();
    return Array.from(
      viewer.node.querySelectorAll<HTMLLIElement>('.jp-EventViewer-row')
    );
  };
  const field = (row: HTMLElement, name: string) =>
    row.textContent!.match(new RegExp(`${name}=(\\w+)`))?.[1];
  const text = (selector: string) => {
    MessageLoop.flush();
    return viewer.node.querySelector(selector)!.textContent;
  };

  beforeEach(async () => {
    client = new FakeClient();
    opened = 0;
    viewer = new EventViewer({
      client: client as unknown as IEventsClient,
      maxRows: 3,
      renderInterval: 0,
      now: () => NOW,
      onOpenSettings: () => opened++
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
      oldest.querySelector('time')!.title
    );
  });

  it('uses list semantics, a status role for the connection and named buttons', () => {
    send(client, COMMAND, { command_id: 'a' });
    const [row] = rows();
    expect(row.parentElement!.tagName).toBe('UL');
    expect(row.tagName).toBe('LI');
    expect(
      viewer.node
        .querySelector('.jp-EventViewer-connection')!
        .getAttribute('role')
    ).toBe('status');
    for (const button of Array.from(viewer.node.querySelectorAll('button'))) {
      expect(
        button.getAttribute('aria-label') || button.textContent
      ).toBeTruthy();
    }
  });

  it('shows the date when the event is not from today', () => {
    const today = new Date(NOW.getTime() - 1000).toISOString();
    const before = new Date(NOW.getTime() - 3 * 86400000);
    expect(formatEventTime(today, NOW)).toMatch(/^\d\d:\d\d:\d\d\.\d{3}$/);
    expect(formatEventTime(before.toISOString(), NOW)).toBe(
      `${before.getFullYear()}-${String(before.getMonth() + 1).padStart(2, '0')}-${String(before.getDate()).padStart(2, '0')} ${formatEventTime(before.toISOString(), before)}`
    );
    send(client, COMMAND, { command_id: 'old' }, before.toISOString());
    expect(rows()[0].querySelector('time')!.textContent).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:/
    );
  });

  it('expands a row to the full JSON', () => {
    send(client, CELL_SCHEMA.id, { phase: 'started' });
    const [row] = rows();
    const details = row.querySelector('details')!;
    expect(row.querySelector('pre')).toBeNull();
    details.open = true;
    details.dispatchEvent(new Event('toggle'));
    expect(JSON.parse(row.querySelector('pre')!.textContent!)).toMatchObject({
      __schema__: CELL_SCHEMA.id,
      phase: 'started'
    });
  });

  it('applies the filter to every event kept, before the row cap', () => {
    send(client, CELL_SCHEMA.id, { phase: 'started', cell_id: 'early' });
    for (const id of ['a', 'b', 'c', 'd']) {
      send(client, COMMAND, { command_id: id });
    }
    expect(rows().map(row => field(row, 'command_id'))).toEqual([
      'd',
      'c',
      'b'
    ]);
    viewer.filter = CELL_SCHEMA.id;
    expect(rows().map(row => field(row, 'cell_id'))).toEqual(['early']);
    send(client, COMMAND, { command_id: 'e' });
    expect(rows()).toHaveLength(1);
    viewer.filter = null;
    expect(rows().map(row => field(row, 'command_id'))).toEqual([
      'e',
      'd',
      'c'
    ]);
    expect(text('.jp-EventViewer-count')).toBe(
      'Showing the newest 3 of 6 matching events'
    );
  });

  it('searches the text of every field, nested ones too, case aside', () => {
    send(client, COMMAND, {
      command_id: 'docmanager:open',
      args: { path: 'Homework.ipynb' }
    });
    send(client, CELL_SCHEMA.id, {
      phase: 'finished',
      error_name: 'ZeroDivisionError'
    });
    for (const id of ['x', 'y', 'z']) {
      send(client, COMMAND, { command_id: id });
    }
    viewer.query = 'homework';
    expect(rows().map(row => field(row, 'command_id'))).toEqual(['docmanager']);
    viewer.query = 'zerodivision';
    expect(rows().map(row => row.dataset.schema)).toEqual([CELL_SCHEMA.id]);
    viewer.filter = COMMAND;
    expect(rows()).toHaveLength(0);
    expect(text('.jp-EventViewer-empty')).toBe(
      'No event matches the filter and search.'
    );
    viewer.query = '';
    viewer.filter = null;
    expect(rows()).toHaveLength(3);
  });

  it('orders by event time and marks events that arrived late', () => {
    viewer.dispose();
    viewer = new EventViewer({
      client: client as unknown as IEventsClient,
      renderInterval: 0
    });
    Widget.attach(viewer, document.body);
    const at = (s: number) =>
      new Date(NOW.getTime() - 100000 + s * 1000).toISOString();
    send(client, COMMAND, { command_id: 'first' }, at(1));
    send(client, COMMAND, { command_id: 'fourth' }, at(10));
    send(client, COMMAND, { command_id: 'second' }, at(2));
    // A second behind, as a browser's batch is behind the server's events.
    send(client, COMMAND, { command_id: 'third' }, at(9));
    const shown = rows();
    expect(shown.map(row => field(row, 'command_id'))).toEqual([
      'fourth',
      'third',
      'second',
      'first'
    ]);
    expect(
      shown.map(row => row.querySelector('.jp-EventViewer-late') !== null)
    ).toEqual([false, false, true, false]);
    expect(shown[2].querySelector('.jp-EventViewer-late')!.textContent).toBe(
      'late'
    );
  });

  it('exports what matches as JSON lines, earliest first', () => {
    send(client, COMMAND, { command_id: 'a' });
    send(client, CELL_SCHEMA.id, { phase: 'started' });
    send(client, COMMAND, { command_id: 'b', args: { path: 'é/"x".py' } });
    send(client, COMMAND, { command_id: 'c' });
    send(client, COMMAND, { command_id: 'd' });
    viewer.filter = COMMAND;
    const text = viewer.exportText();
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.trimEnd().split('\n');
    // Every match, also those beyond the rows rendered.
    expect(lines.map(line => JSON.parse(line).command_id)).toEqual([
      'a',
      'b',
      'c',
      'd'
    ]);
    expect(JSON.parse(lines[1]).args.path).toBe('é/"x".py');
    viewer.query = 'nothing like it';
    expect(viewer.exportText()).toBe('');
  });

  it('downloads the export as a .jsonl file', async () => {
    send(client, COMMAND, { command_id: 'a' });
    const clicked: HTMLAnchorElement[] = [];
    const blobs: Blob[] = [];
    const createObjectURL = (URL.createObjectURL = jest.fn((blob: Blob) => {
      blobs.push(blob);
      return 'blob:events';
    }));
    URL.revokeObjectURL = jest.fn();
    const click = jest
      .spyOn(HTMLAnchorElement.prototype, 'click')
      .mockImplementation(function (this: HTMLAnchorElement) {
        clicked.push(this);
      });
    viewer.download();
    click.mockRestore();
    expect(createObjectURL).toHaveBeenCalledTimes(1);
    expect(clicked[0].download).toMatch(/^events-\d{8}-\d{6}\.jsonl$/);
    // jsdom's Blob has no text(): read it as a browser of old would.
    const content = await new Promise<string>(resolve => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result as string);
      reader.readAsText(blobs[0]);
    });
    expect(content).toBe(viewer.exportText());
    expect(blobs[0].type).toBe('application/x-ndjson');
  });

  it('has a named copy button on each row (the copy itself: Galata)', () => {
    send(client, COMMAND, { command_id: 'copied' });
    const [row] = rows();
    const button = row.querySelector<HTMLButtonElement>(
      '.jp-EventViewer-copy'
    )!;
    expect(button.getAttribute('aria-label')).toBe('Copy the event as JSON');
    expect(button.type).toBe('button');
  });

  it('holds events back while paused and shows them on resume', () => {
    viewer.togglePaused();
    send(client, COMMAND, { command_id: 'a' });
    send(client, COMMAND, { command_id: 'b' });
    expect(rows()).toHaveLength(0);
    expect(viewer.log.heldCount).toBe(2);
    expect(text('.jp-EventViewer-count')).toContain('2 new while paused');
    viewer.togglePaused();
    expect(rows()).toHaveLength(2);
    expect(viewer.paused).toBe(false);
  });

  it('keeps the rows still once paused: an event not drawn yet is held back', () => {
    send(client, COMMAND, { command_id: 'shown' });
    expect(rows()).toHaveLength(1);
    // Arrived, but the frame that would draw it has not come yet.
    send(client, COMMAND, { command_id: 'late' });
    viewer.togglePaused();
    expect(rows().map(row => field(row, 'command_id'))).toEqual(['shown']);
    expect(viewer.log.heldCount).toBe(1);
    expect(text('.jp-EventViewer-count')).toContain('1 new while paused');
    viewer.togglePaused();
    expect(rows().map(row => field(row, 'command_id'))).toEqual([
      'late',
      'shown'
    ]);
  });

  it('keeps the rows already rendered: an opened row stays open', () => {
    send(client, COMMAND, { command_id: 'a' });
    const [row] = rows();
    row.querySelector('details')!.open = true;
    send(client, COMMAND, { command_id: 'b' });
    const [, same] = rows();
    expect(same).toBe(row);
    expect(same.querySelector('details')!.open).toBe(true);
  });

  it('renders a flood of events a few times, not once each', async () => {
    viewer.dispose();
    viewer = new EventViewer({
      client: client as unknown as IEventsClient,
      maxRows: 50,
      renderInterval: 50
    });
    Widget.attach(viewer, document.body);
    await new Promise(resolve => setTimeout(resolve, 0)); // the schemas listed
    let renders = 0;
    viewer.stateChanged.connect(() => renders++);
    for (let n = 0; n < 200; n++) {
      send(client, COMMAND, { command_id: `f${n}` });
      MessageLoop.flush();
    }
    expect(renders).toBe(0);
    await new Promise(resolve => setTimeout(resolve, 80));
    MessageLoop.flush();
    expect(renders).toBe(1);
    expect(
      viewer.node.querySelectorAll('.jp-EventViewer-row')[0].textContent
    ).toContain('command_id=f199');
  });

  it('clears', () => {
    for (const id of ['a', 'b']) {
      send(client, COMMAND, { command_id: id });
    }
    viewer.clear();
    expect(rows()).toHaveLength(0);
    expect(text('.jp-EventViewer-empty')).toBe('Waiting for events…');
  });

  it('shows the connection and what waits to be sent', () => {
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
      rejected: 0,
      eventManager: { queued: 0, posted: 0 },
      transport: 'socket'
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

    viewer.captureDrops = { attention: 7, cellEdits: 2 };
    expect(text('.jp-EventViewer-delivery')).toBe(
      '12 waiting to be sent · kept in memory only · 3 dropped (queue or storage full) · 9 dropped by the capture rate limit (attention 7, cellEdits 2)'
    );

    // What extensions emitted through JupyterLab's own event API, by path.
    client.state = {
      ...client.state,
      eventManager: { queued: 5, posted: 2 }
    };
    client.stateChanged.emit(client.state);
    expect(text('.jp-EventViewer-delivery')).toBe(
      '12 waiting to be sent · kept in memory only · 3 dropped (queue or storage full) · 9 dropped by the capture rate limit (attention 7, cellEdits 2) · 7 through JupyterLab’s event API (2 of them to /api/events)'
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

  it('says what this browser records, the locks, and links to the settings', () => {
    expect(text('.jp-EventViewer-settings')).toContain(
      'The settings of this browser are not known'
    );
    viewer.recording = {
      capture: true,
      reason: null,
      consent: 'notice',
      commands: true,
      documents: false,
      cellExecution: true,
      kernels: true,
      activeDocument: false,
      cellEdits: true,
      notebookStructure: true,
      attention: true,
      cellOutputs: true,
      clipboard: false,
      snapshots: false,
      pathMode: 'omitted',
      serverPathMode: null,
      locked: ['pathMode', 'documents']
    };
    const settings = viewer.node.querySelector('.jp-EventViewer-settings')!;
    const item = (key: string) =>
      settings.querySelector<HTMLElement>(`[data-setting="${key}"]`)!;
    expect(item('capture').dataset.on).toBe('true');
    expect(item('documents').dataset.on).toBe('false');
    expect(
      item('documents').querySelector('.jp-EventViewer-settingText')!
        .textContent
    ).toBe('documents opened, saved and closed: off');
    expect(item('cellExecution').dataset.on).toBe('true');
    expect(
      item('clipboard').querySelector('.jp-EventViewer-settingText')!
        .textContent
    ).toBe('copy, cut and paste counts (never the text): off');
    expect(item('cellEdits').dataset.on).toBe('true');
    expect(item('pathMode').textContent).toContain('Paths are left out.');
    expect(item('pathMode').querySelector('.jp-EventViewer-serverPolicy')).toBe(
      null
    );
    const locked = Array.from(
      settings.querySelectorAll('.jp-EventViewer-locked')
    ).map(lock => lock.closest<HTMLElement>('li')!.dataset.setting);
    expect(locked.sort()).toEqual(['documents', 'pathMode']);
    settings.querySelector<HTMLButtonElement>('button')!.click();
    expect(opened).toBe(1);

    viewer.recording = { ...viewer.recording!, serverPathMode: 'omitted' };
    expect(
      item('pathMode').querySelector('.jp-EventViewer-serverPolicy')!
        .textContent
    ).toBe("This server's policy requires it.");
    viewer.recording = { ...viewer.recording!, serverPathMode: 'hashed' };
    expect(item('pathMode').querySelector('.jp-EventViewer-serverPolicy')).toBe(
      null
    );

    viewer.recording = { ...viewer.recording!, capture: false, reason: 'off' };
    expect(settings.textContent).toContain('Your actions are not captured.');
    expect(settings.querySelector('[data-setting="commands"]')).toBeNull();
  });

  it('describes the schemas this browser sends, not the whole stream', () => {
    const cards = Array.from(
      viewer.node.querySelectorAll<HTMLElement>('.jp-EventViewer-schemaCard')
    );
    expect(cards.map(card => card.dataset.schema)).toEqual([CELL_SCHEMA.id]);
    expect(cards[0].textContent).toContain(
      'A notebook code cell started or finished executing.'
    );
    expect(viewer.schemas.has(SERVER_SCHEMA.id)).toBe(true);
  });

  it('closes its subscription when disposed', () => {
    viewer.dispose();
    expect(client.subscription.isDisposed).toBe(true);
  });
});

describe('EventViewer strings', () => {
  it('go through the translator', () => {
    const bundle = {
      __: (msgid: string, ...args: any[]) =>
        `«${msgid.replace(/%(\d)/g, (_, n) => String(args[n - 1]))}»`,
      _n: (singular: string, plural: string, n: number) =>
        `«${(n === 1 ? singular : plural).replace('%1', String(n))}»`
    } as unknown as TranslationBundle;
    const translator = {
      load: (domain: string) => {
        expect(domain).toBe('jupyter_events_ext');
        return bundle;
      }
    } as unknown as ITranslator;
    const client = new FakeClient();
    const viewer = new EventViewer({
      client: client as unknown as IEventsClient,
      translator
    });
    Widget.attach(viewer, document.body);
    MessageLoop.flush();
    const texts = [
      '.jp-EventViewer-connection',
      '.jp-EventViewer-delivery',
      '.jp-EventViewer-empty',
      '.jp-EventViewer-heading',
      '.jp-EventViewer-count'
    ].map(selector => viewer.node.querySelector(selector)!.textContent!);
    for (const text of texts) {
      expect(text).toMatch(/^«.*»$/);
    }
    viewer.dispose();
  });
});

describe('EventViewer with a server that refuses the stream', () => {
  let server: FakeServer;
  let client: EventsClient;
  let viewer: EventViewer;

  beforeEach(async () => {
    server = await FakeServer.start();
    client = new EventsClient({
      serverSettings: server.settings,
      indexedDB: new IDBFactory(),
      storage: null
    });
  });

  afterEach(async () => {
    viewer?.dispose();
    client.dispose();
    await server.close();
  });

  async function connection(expected: RegExp | string) {
    const node = () =>
      viewer.node.querySelector<HTMLElement>('.jp-EventViewer-connection')!;
    const start = Date.now();
    while (!node().textContent!.match(expected)) {
      if (Date.now() - start > 5000) {
        throw new Error(`still "${node().textContent}"`);
      }
      await new Promise(resolve => setTimeout(resolve, 10));
    }
    return node();
  }

  it('says the server answers but refuses the socket (429), not “Reconnecting…”', async () => {
    server.refuseStreams = 429;
    viewer = new EventViewer({ client });
    const node = await connection(/refuses the live stream/);
    expect(node.textContent).toBe(
      'The server answers but refuses the live stream (too many open viewers, or a proxy that does not pass WebSockets).'
    );
    expect(node.dataset.state).toBe('server-error');
  });

  it('says not authorized when the server refuses both (403)', async () => {
    server.refuseStreams = 403;
    server.override = route =>
      route === 'info'
        ? { status: 403, body: JSON.stringify({ message: 'Forbidden' }) }
        : undefined;
    viewer = new EventViewer({ client });
    const node = await connection(/Not authorized/);
    expect(node.dataset.state).toBe('not-authorized');
  });

  it('goes live once the server takes the stream', async () => {
    server.refuseStreams = 429;
    viewer = new EventViewer({ client });
    await connection(/refuses/);
    server.refuseStreams = null;
    // The stream retries with backoff from 1 s.
    await new Promise(resolve => setTimeout(resolve, 1200));
    await connection('Live');
  });
});

describe('opening the Event Viewer on 10,000 buffered events', () => {
  it('renders once, the newest 500, quickly', () => {
    const client = new FakeClient();
    const start = performance.now();
    const viewer = new EventViewer({
      client: client as unknown as IEventsClient,
      renderInterval: 0
    });
    Widget.attach(viewer, document.body);
    // The server's replay: 10,000 messages before the next frame.
    for (let n = 0; n < 10000; n++) {
      send(
        client,
        n % 2 ? COMMAND : CELL_SCHEMA.id,
        { command_id: `c${n}`, args: { n } },
        new Date(NOW.getTime() - 10000000 + n * 1000).toISOString()
      );
    }
    const received = performance.now();
    // A batch of rows a frame: five frames for 500.
    let frames = 0;
    while (viewer.node.querySelectorAll('.jp-EventViewer-row').length < 500) {
      MessageLoop.flush();
      frames++;
    }
    expect(frames).toBe(5);
    const rendered = performance.now();
    expect(viewer.node.querySelectorAll('.jp-EventViewer-row').length).toBe(
      500
    );
    viewer.query = 'c1234"';
    MessageLoop.flush();
    const searched = performance.now();
    expect(viewer.node.querySelectorAll('.jp-EventViewer-row').length).toBe(1);
    console.log(
      `10,000 events: received in ${(received - start).toFixed(0)} ms, rendered in ${(rendered - received).toFixed(0)} ms, searched in ${(searched - rendered).toFixed(0)} ms (open: ${(rendered - start).toFixed(0)} ms)`
    );
    viewer.dispose();
  });
});
