import type { ICommandPalette, MainAreaWidget } from '@jupyterlab/apputils';
import { nullTranslator } from '@jupyterlab/translation';
import { CommandRegistry } from '@lumino/commands';
import { MessageLoop } from '@lumino/messaging';
import { Signal } from '@lumino/signaling';
import { CommandPalette, Widget } from '@lumino/widgets';

import plugins from '../index';
import { OperatorLocks } from '../settings/locks';
import { EventsSettings } from '../settings/model';
import type { IEventsClient } from '../tokens';
import { EventViewer } from '../viewer/widget';
import { addViewerCommands, CommandIDs } from '../viewer/commands';
import { CELL_SCHEMA } from './fakeserver';
import { SETTINGS_ID, SettingsConnector, settingRegistry } from './settings';
import { COMMAND, FakeClient, send } from './viewerclient';

const trans = nullTranslator.load('jupyter_events_ext');

async function until(check: () => boolean, timeout = 3000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeout) {
      throw new Error('timed out');
    }
    MessageLoop.flush();
    await new Promise(resolve => setTimeout(resolve, 10));
  }
}

describe('the Event Viewer commands', () => {
  let commands: CommandRegistry;
  let lumino: CommandPalette;
  let client: FakeClient;
  let panel: MainAreaWidget<EventViewer>;

  beforeEach(async () => {
    commands = new CommandRegistry();
    lumino = new CommandPalette({ commands });
    // JupyterLab's palette is Lumino's, with a category for each item.
    const palette = {
      addItem: (options: { command: string; category: string }) =>
        lumino.addItem(options)
    } as unknown as ICommandPalette;
    client = new FakeClient();
    addViewerCommands({
      commands,
      shell: {
        add: widget => Widget.attach(widget, document.body),
        activateById: () => undefined
      },
      palette,
      trans,
      createViewer: () =>
        new EventViewer({
          client: client as unknown as IEventsClient,
          renderInterval: 0
        })
    });
    panel = await commands.execute(CommandIDs.open);
    MessageLoop.flush();
  });

  afterEach(() => {
    panel.dispose();
  });

  const ids = [
    CommandIDs.open,
    CommandIDs.togglePause,
    CommandIDs.clear,
    CommandIDs.filter,
    CommandIDs.search,
    CommandIDs.exportEvents,
    CommandIDs.openSettings
  ];

  it('are in the palette, category "Events", each with label, caption and icon', () => {
    const items = lumino.items.filter(item => item.category === 'Events');
    expect(items.map(item => item.command)).toEqual(ids);
    for (const id of ids) {
      expect(commands.label(id, { isPalette: true })).not.toBe('');
      expect(commands.caption(id)).not.toBe('');
      expect(commands.icon(id)).toBeTruthy();
    }
  });

  it('open one Viewer when asked twice at once', async () => {
    panel.dispose();
    const [first, second] = await Promise.all([
      commands.execute(CommandIDs.open),
      commands.execute(CommandIDs.open)
    ]);
    expect(first).toBe(second);
    expect(first).not.toBe(panel);
    panel = first;
  });

  it('make the panel toolbar, buttons named after their commands', async () => {
    // React renders the buttons a moment later.
    await until(
      () =>
        panel.toolbar.node.querySelectorAll(
          '.jp-ToolbarButtonComponent[data-command]'
        ).length === 4
    );
    const buttons = Array.from(
      panel.toolbar.node.querySelectorAll<HTMLElement>(
        '.jp-ToolbarButtonComponent[data-command]'
      )
    );
    expect(buttons.map(button => button.dataset.command)).toEqual([
      CommandIDs.togglePause,
      CommandIDs.clear,
      CommandIDs.exportEvents,
      CommandIDs.openSettings
    ]);
    for (const button of buttons) {
      expect(button.getAttribute('aria-label')).toBeTruthy();
    }
    expect(panel.toolbar.node.querySelector('select')).not.toBeNull();
    expect(
      panel.toolbar.node
        .querySelector('input[type="search"]')!
        .getAttribute('aria-label')
    ).toBe('Search events');
  });

  it('pause and resume, the label saying how many wait', async () => {
    expect(commands.isToggled(CommandIDs.togglePause)).toBe(false);
    expect(commands.label(CommandIDs.togglePause)).toBe('Pause');
    await commands.execute(CommandIDs.togglePause);
    expect(panel.content.paused).toBe(true);
    expect(commands.isToggled(CommandIDs.togglePause)).toBe(true);
    send(client, COMMAND, { command_id: 'a' });
    expect(commands.label(CommandIDs.togglePause)).toBe('Resume (1 new)');
    await commands.execute(CommandIDs.togglePause);
    expect(panel.content.paused).toBe(false);
  });

  it('filter by schema and search, the toolbar following', async () => {
    send(client, COMMAND, { command_id: 'a' });
    send(client, CELL_SCHEMA.id, { phase: 'started', cell_id: 'needle' });
    await commands.execute(CommandIDs.filter, { schema: CELL_SCHEMA.id });
    MessageLoop.flush();
    expect(panel.content.filter).toBe(CELL_SCHEMA.id);
    expect(panel.toolbar.node.querySelector('select')!.value).toBe(
      CELL_SCHEMA.id
    );
    expect(commands.isToggled(CommandIDs.filter)).toBe(true);
    await commands.execute(CommandIDs.filter, { schema: '' });
    expect(panel.content.filter).toBeNull();

    await commands.execute(CommandIDs.search, { query: 'needle' });
    MessageLoop.flush();
    expect(
      panel.toolbar.node.querySelector<HTMLInputElement>('input')!.value
    ).toBe('needle');
    expect(
      panel.content.node.querySelectorAll('.jp-EventViewer-row')
    ).toHaveLength(1);

    // Typing in the toolbar searches too.
    const input = panel.toolbar.node.querySelector<HTMLInputElement>('input')!;
    input.value = 'nothing';
    input.dispatchEvent(new Event('input'));
    expect(panel.content.query).toBe('nothing');
    // Without arguments, the command takes the user to the box.
    await commands.execute(CommandIDs.search);
    expect(document.activeElement).toBe(input);
  });

  it('clear and export act on the viewer', async () => {
    send(client, COMMAND, { command_id: 'a' });
    const download = jest
      .spyOn(panel.content, 'download')
      .mockImplementation(() => undefined);
    await commands.execute(CommandIDs.exportEvents);
    expect(download).toHaveBeenCalledTimes(1);
    await commands.execute(CommandIDs.clear);
    expect(panel.content.log.size).toBe(0);
  });

  it('open the settings through the Settings Editor when it is there', async () => {
    expect(commands.isEnabled(CommandIDs.openSettings)).toBe(false);
    const opened: unknown[] = [];
    commands.addCommand('settingeditor:open', {
      execute: args => opened.push(args)
    });
    expect(commands.isEnabled(CommandIDs.openSettings)).toBe(true);
    await commands.execute(CommandIDs.openSettings);
    expect(opened).toEqual([{ query: 'Events' }]);
  });

  it('show the Activity button once its command exists', async () => {
    // A narrow toolbar (jsdom's is 0 px wide) shows the last items in its popup.
    const activity = () =>
      document.body.querySelector(
        `.jp-ToolbarButtonComponent[data-command="${CommandIDs.openActivity}"]`
      );
    expect(activity()).toBeNull();
    let ran = 0;
    commands.addCommand(CommandIDs.openActivity, {
      label: 'Activity',
      execute: () => ran++
    });
    await until(() => activity() !== null);
    (activity() as HTMLElement).click();
    expect(ran).toBe(1);
  });
});

describe('the Event Viewer plugin', () => {
  const viewerPlugin = plugins.find(
    plugin => plugin.id === 'jupyter-events-ext:viewer'
  )!;

  it.each([
    { frontend: 'JupyterLab', labShell: {}, area: 'main' },
    { frontend: 'Jupyter Notebook', labShell: null, area: 'right' }
  ])(
    'opens the Viewer in the $area area ($frontend)',
    async ({ labShell, area }) => {
      const commands = new CommandRegistry();
      const added: string[] = [];
      const app = {
        commands,
        shell: {
          add: (widget: Widget, area: string) => {
            added.push(area);
            Widget.attach(widget, document.body);
          },
          activateById: () => undefined
        }
      };
      const model = new EventsSettings();
      await viewerPlugin.activate(
        app as any,
        new FakeClient(),
        model,
        null,
        null,
        null,
        null,
        null,
        labShell as any
      );
      const panel: MainAreaWidget<EventViewer> = await commands.execute(
        CommandIDs.open
      );
      expect(added).toEqual([area]);
      panel.dispose();
    }
  );

  it('gives the viewer what this browser records: the settings in force, the operator’s locks applied', async () => {
    // overrides.json: paths omitted, and locked.
    const connector = new SettingsConnector({
      pathMode: 'omitted',
      locked: ['pathMode']
    });
    // The user turned documents off and asked for paths as they are.
    await connector.setUser({ documents: false, pathMode: 'as-is' });
    const registry = await settingRegistry(connector);
    // The settings plugin registers the transform before anything loads.
    OperatorLocks.register(registry, SETTINGS_ID, trans);
    const settings = await registry.load(SETTINGS_ID);
    const model = new EventsSettings({ settings });
    const commands = new CommandRegistry();
    const app = {
      commands,
      shell: {
        add: (widget: Widget) => Widget.attach(widget, document.body),
        activateById: () => undefined
      }
    };
    const client = new FakeClient();
    // The capture's drops (ICaptureDrops), as its rate limit counts them.
    const dropsChanged = new Signal<unknown, Record<string, number>>({});
    const captureDrops = { drops: { attention: 4 }, dropsChanged };
    await viewerPlugin.activate(
      app as any,
      client,
      model,
      null,
      null,
      null,
      null,
      captureDrops
    );
    const panel: MainAreaWidget<EventViewer> = await commands.execute(
      CommandIDs.open
    );
    await until(() => panel.content.recording !== null);
    // The user's own value is kept: only the transform makes it 'omitted'.
    expect(settings.user.pathMode).toBe('as-is');
    expect(panel.content.recording).toEqual({
      capture: true,
      reason: null,
      consent: 'notice',
      commands: true,
      documents: false,
      cellExecution: true,
      kernels: true,
      activeDocument: true,
      cellEdits: true,
      notebookStructure: true,
      attention: true,
      cellOutputs: true,
      clipboard: false,
      snapshots: false,
      pathMode: 'omitted',
      serverPathMode: null,
      locked: ['pathMode']
    });

    await settings.set('capture', false);
    await settings.set('pathMode', 'hashed');
    await until(() => panel.content.recording!.capture === false);
    expect(panel.content.recording!.pathMode).toBe('omitted');
    expect(panel.content.captureDrops).toEqual({ attention: 4 });
    dropsChanged.emit({ attention: 4, clipboard: 1 });
    expect(panel.content.captureDrops).toEqual({ attention: 4, clipboard: 1 });
    panel.dispose();
  });
});
