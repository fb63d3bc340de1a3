import { type IRenderMime, RenderMimeRegistry } from '@jupyterlab/rendermime';
import { CommandRegistry } from '@lumino/commands';
import type { ReadonlyJSONObject } from '@lumino/coreutils';
import { Widget } from '@lumino/widgets';
import { IDBFactory } from 'fake-indexeddb';

import { VEGALITE_MIME } from '../activity/charts';
import { CELL_EXECUTION_SCHEMA, COMMAND_SCHEMA } from '../activity/model';
import { activityPlugin, OPEN_ACTIVITY } from '../activity/plugin';
import { ActivityView } from '../activity/widget';
import { EventsClient } from '../client/client';
import { FakeServer } from './fakeserver';

/**
 * Stands in for JupyterLab's vega5-extension (not installed under jest): it
 * keeps the specs it is given, in order.
 */
class RecordingRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(private readonly _drawn: ReadonlyJSONObject[]) {
    super();
  }
  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this._drawn.push(model.data[VEGALITE_MIME] as ReadonlyJSONObject);
    this.node.textContent = 'drawn';
  }
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

let seq = 0;
function message(schema: string, data: object, time = Date.now()): string {
  return JSON.stringify({
    seq: ++seq,
    event: {
      __timestamp__: new Date(time).toISOString(),
      __schema__: schema,
      __schema_version__: '1',
      __metadata_version__: 1,
      ...data
    }
  });
}

const finished = (duration: number, error?: string) =>
  message(CELL_EXECUTION_SCHEMA, {
    phase: 'finished',
    success: !error,
    duration_ms: duration,
    ...(error ? { error_name: error } : {})
  });

describe('ActivityView', () => {
  let server: FakeServer;
  let client: EventsClient;
  let drawn: ReadonlyJSONObject[];
  let rendermime: RenderMimeRegistry;
  let view: ActivityView | null = null;

  const values = (chart: string) =>
    (view!.specs as any)[chart]?.data.values as any[] | undefined;
  const scripted = (chart: string) =>
    JSON.parse(
      view!.node.querySelector(
        `[data-chart="${chart}"] script[type="${VEGALITE_MIME}"]`
      )!.textContent!
    );

  function open(options: Partial<ActivityView.IOptions> = {}): ActivityView {
    view = new ActivityView({
      client,
      rendermime,
      renderInterval: 200,
      ...options
    });
    Widget.attach(view, document.body);
    return view;
  }

  beforeEach(async () => {
    server = await FakeServer.start();
    client = new EventsClient({
      serverSettings: server.settings,
      indexedDB: new IDBFactory(),
      storage: null
    });
    drawn = [];
    rendermime = new RenderMimeRegistry({
      initialFactories: [
        {
          safe: true,
          mimeTypes: [VEGALITE_MIME],
          createRenderer: () => new RecordingRenderer(drawn)
        }
      ]
    });
  });

  afterEach(async () => {
    view?.dispose();
    view = null;
    client.dispose();
    await server.close();
  });

  it('opens on what the server buffers and draws it through the renderer', async () => {
    open();
    await until(() => server.streams.length === 1);
    // Everything the server still buffers: a replay from the start.
    expect(server.streamUrls[0]).toContain('after=0');
    const socket = server.streams[0];
    socket.send(JSON.stringify({ run_id: 'run-1', last_seq: 4 }));
    socket.send(message(COMMAND_SCHEMA, { command_id: 'notebook:run-cell' }));
    socket.send(message(COMMAND_SCHEMA, { command_id: 'notebook:run-cell' }));
    socket.send(finished(12));
    socket.send(finished(40, 'ZeroDivisionError'));
    await until(() => values('failures') !== undefined);

    expect(values('commands')).toEqual([
      { command: 'notebook:run-cell', count: 2 }
    ]);
    expect(values('durations')!.map(row => row.duration_ms)).toEqual([12, 40]);
    expect(values('failures')).toEqual([
      expect.objectContaining({ error: 'ZeroDivisionError', count: 1 })
    ]);
    expect(values('events')!.map(row => [row.schema, row.count])).toEqual(
      expect.arrayContaining([
        ['command', 2],
        ['cell-execution', 2]
      ])
    );
    // What the renderer was given is what the page says it was given.
    for (const chart of ['events', 'durations', 'failures', 'commands']) {
      expect(scripted(chart)).toEqual((view!.specs as any)[chart]);
      expect(drawn).toContainEqual((view!.specs as any)[chart]);
    }
    expect(
      view!.node.querySelector('.jp-ActivityView-summary')!.textContent
    ).toMatch(/^4 events since .* · 2 cells run · 1 failed$/);
    expect(
      view!.node.querySelector('.jp-ActivityView-connection')!.textContent
    ).toBe('Live');
  });

  it('says a chart is empty rather than draw nothing', async () => {
    open();
    await until(() => server.streams.length === 1);
    server.streams[0].send(finished(5));
    await until(() => values('durations') !== undefined);
    const chart = (id: string) =>
      view!.node.querySelector<HTMLElement>(`[data-chart="${id}"]`)!;
    const empty = (id: string) =>
      chart(id).querySelector<HTMLElement>('.jp-ActivityView-empty')!;
    expect(empty('durations').hidden).toBe(true);
    expect(empty('commands').hidden).toBe(false);
    expect(empty('commands').textContent).toBe('No commands yet.');
    expect(empty('failures').textContent).toBe('No cell has failed.');
    expect(values('commands')).toBeUndefined();
    expect(drawn).toHaveLength(2); // events and durations only
  });

  it('draws at most once per interval, and then all that arrived', async () => {
    open({ renderInterval: 1500 });
    await until(() => server.streams.length === 1);
    const socket = server.streams[0];
    socket.send(finished(1));
    await until(() => values('durations')?.length === 1);
    const drawings = drawn.length;
    for (let i = 2; i <= 50; i++) {
      socket.send(finished(i));
    }
    await until(() => view!.model.totals.executions === 50);
    // The interval has not passed: nothing drawn again yet.
    expect(drawn.length).toBe(drawings);
    await until(() => values('durations')?.length === 50);
    // One more drawing of each chart that changed (events and durations).
    expect(drawn.length).toBe(drawings + 2);
  });

  it('draws only while visible, and what changed meanwhile once shown', async () => {
    open();
    await until(() => server.streams.length === 1);
    view!.hide();
    server.streams[0].send(message(COMMAND_SCHEMA, { command_id: 'a' }));
    await until(() => view!.model.totals.commands === 1);
    await new Promise(resolve => setTimeout(resolve, 300));
    expect(drawn).toHaveLength(0);
    view!.show();
    await until(() => values('commands') !== undefined);
    expect(values('commands')).toEqual([{ command: 'a', count: 1 }]);
  });

  it('draws again in the colours of a new theme', async () => {
    open();
    await until(() => server.streams.length === 1);
    server.streams[0].send(message(COMMAND_SCHEMA, { command_id: 'a' }));
    await until(() => values('commands') !== undefined);
    const before = drawn.length;
    document.body.style.setProperty('--jp-ui-font-color1', 'rgb(1, 2, 3)');
    try {
      view!.refreshTheme();
      await until(() => drawn.length > before);
      const config = (view!.specs.commands as any).config;
      expect(config.axis.titleColor).toBe('rgb(1, 2, 3)');
    } finally {
      document.body.style.removeProperty('--jp-ui-font-color1');
    }
  });

  it('closes its stream when disposed', async () => {
    open();
    await until(() => server.streams.length === 1);
    const socket = server.streams[0];
    const closed = new Promise(resolve => socket.once('close', resolve));
    view!.dispose();
    await closed;
  });
});

describe('activityPlugin', () => {
  it.each([
    { frontend: 'JupyterLab', labShell: {}, area: 'main' },
    { frontend: 'Jupyter Notebook', labShell: null, area: 'right' }
  ])(
    'adds a command and a View menu entry that open one Activity view ($frontend: in the $area area), which says when it cannot draw',
    ({ labShell, area }) => {
      const commands = new CommandRegistry();
      const added: [Widget, string][] = [];
      const app = {
        commands,
        shell: {
          add: (widget: Widget, area: string) => {
            added.push([widget, area]);
            Widget.attach(widget, document.body);
          },
          activateById: () => undefined
        }
      } as any;
      const subscription = {
        stream: { connect: () => undefined },
        connectionChanged: { connect: () => undefined },
        connected: false,
        reason: null,
        dispose: () => undefined
      };
      const client = { subscribe: () => subscription } as any;
      const palette = {
        items: [] as any[],
        addItem: (item: any) => palette.items.push(item)
      };
      const viewMenu: any[] = [];
      const mainMenu = {
        viewMenu: { addItem: (item: any) => viewMenu.push(item) }
      };
      activityPlugin.activate(
        app,
        client,
        new RenderMimeRegistry(),
        null,
        palette,
        null,
        null,
        mainMenu as any,
        labShell as any
      );
      expect(viewMenu).toEqual([{ command: OPEN_ACTIVITY, rank: 100 }]);
      expect(commands.label(OPEN_ACTIVITY)).toBe('Event Activity');
      expect(commands.caption(OPEN_ACTIVITY)).not.toBe('');
      expect(commands.icon(OPEN_ACTIVITY)).toBeDefined();
      expect(palette.items).toEqual([
        { command: OPEN_ACTIVITY, category: 'Events' }
      ]);
      const first = commands.execute(OPEN_ACTIVITY);
      const second = commands.execute(OPEN_ACTIVITY);
      return Promise.all([first, second]).then(([a, b]) => {
        expect(a).toBe(b);
        expect(a.content).toBeInstanceOf(ActivityView);
        expect(a.title.label).toBe('Event Activity');
        expect(added).toEqual([[a, area]]);
        // This registry has no Vega-Lite renderer: the view says so.
        expect(
          a.node.querySelector('[data-chart="events"] .jp-ActivityView-empty')!
            .textContent
        ).toMatch(/Vega-Lite renderer .* is not enabled/);
        a.dispose();
      });
    }
  );
});
