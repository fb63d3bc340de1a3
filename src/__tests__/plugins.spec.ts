import { Notification } from '@jupyterlab/apputils';
import { SettingRegistry } from '@jupyterlab/settingregistry';
import { StateDB } from '@jupyterlab/statedb';
import { CommandRegistry } from '@lumino/commands';
import { Widget } from '@lumino/widgets';

import { CONSENT_SCHEMA } from '../consent/keeper';
import type { EventsStatus } from '../statusbar/item';
import type { IEventsClient, IEventsConsent } from '../tokens';
import { FakeServer } from './fakeserver';
import { TestLab } from './lab';
import { click, shown, until } from './notifications';
import { SETTINGS_ID, SettingsConnector, settingRegistry } from './settings';
import { shippedSchemas } from './shipped';

const COMMAND_SCHEMA =
  'https://events.jupyter.org/jupyter_events_ext/command/v1';

describe('plugins', () => {
  let server: FakeServer;
  let client: IEventsClient;
  let lab: TestLab | null = null;

  beforeEach(async () => {
    server = await FakeServer.start(shippedSchemas());
  });

  afterEach(async () => {
    Notification.dismiss();
    lab?.dispose();
    lab = null;
    await server.close();
  });

  /**
   * Start the plugins as JupyterLab would (through the plugin registry),
   * with a bare app with one command, test:run; without the consent plugin
   * unless asked.
   */
  async function activate(
    registry: SettingRegistry,
    options: { consent?: boolean; statusBar?: { items: Widget[] } } = {}
  ): Promise<{ commands: CommandRegistry; consent: IEventsConsent | null }> {
    lab = await TestLab.start(server, {
      registry,
      state: new StateDB(),
      // The Event Viewer's plugin is left out: a test stands in for its command.
      without: [
        'jupyter-events-ext:viewer',
        ...(options.consent ? [] : ['jupyter-events-ext:consent'])
      ]
    });
    client = lab.client;
    options.statusBar?.items.push(...lab.statusItems);
    return { commands: lab.commands, consent: lab.consent };
  }

  /**
   * What the server recorded of a schema, once every waiting event is sent.
   */
  async function recorded(schema: string) {
    await client.flush();
    return server.recorded.filter(e => e.schema_id === schema).map(e => e.data);
  }

  it('apply setting changes at once, without a reload', async () => {
    const registry = await settingRegistry(new SettingsConnector());
    const { commands } = await activate(registry);
    const settings = await registry.load(SETTINGS_ID);
    const emit = jest
      .spyOn(client, 'emit')
      .mockImplementation(() => Promise.resolve({ id: 'x', durable: true }));

    await commands.execute('test:run');
    expect(emit).toHaveBeenCalledTimes(1);

    await settings.set('capture', false);
    await commands.execute('test:run');
    expect(emit).toHaveBeenCalledTimes(1);

    await settings.set('capture', true);
    await settings.set('commandDeny', ['test:*']);
    await commands.execute('test:run');
    expect(emit).toHaveBeenCalledTimes(1);

    await settings.set('commandDeny', []);
    await settings.set('queueBound', 20);
    await commands.execute('test:run');
    expect(emit).toHaveBeenCalledTimes(2);
    expect((client as any)._queue.bound).toBe(20);
  });

  it('keep the operator’s value of the settings overrides.json locks', async () => {
    // overrides.json changes the defaults: capture off, and locked.
    const connector = new SettingsConnector({
      capture: false,
      locked: ['capture']
    });
    await connector.setUser({ capture: true });
    const registry = await settingRegistry(connector);
    const { commands } = await activate(registry);
    const emit = jest.spyOn(client, 'emit');

    await commands.execute('test:run');
    // A user cannot unlock it either.
    const settings = await registry.load(SETTINGS_ID);
    await settings.set('locked', []);
    await settings.set('capture', true);
    await commands.execute('test:run');
    expect(emit).not.toHaveBeenCalled();
  });

  it('capture nothing when the settings cannot be read', async () => {
    const connector = new SettingsConnector();
    connector.fetch = () => Promise.reject(new Error('no settings'));
    const registry = new SettingRegistry({ connector });
    const error = jest.spyOn(console, 'error').mockImplementation(() => {});
    const { commands } = await activate(registry);
    const emit = jest.spyOn(client, 'emit');
    await commands.execute('test:run');
    expect(emit).not.toHaveBeenCalled();
    error.mockRestore();
  });

  describe('in the opt-in consent mode', () => {
    it('capture nothing until the user agrees, then record the decision and the actions', async () => {
      const connector = new SettingsConnector({ consent: 'opt-in' });
      const registry = await settingRegistry(connector);
      const { commands, consent } = await activate(registry, {
        consent: true
      });
      await until(() => shown().length === 1);

      await commands.execute('test:run');
      expect(await recorded(COMMAND_SCHEMA)).toEqual([]);

      click(shown()[0], 'Agree');
      await until(() => consent!.allowsCapture);
      await commands.execute('test:run');

      expect(await recorded(COMMAND_SCHEMA)).toEqual([
        { command_id: 'test:run' }
      ]);
      expect(await recorded(CONSENT_SCHEMA)).toEqual([{ decision: 'agreed' }]);
    });

    it('stop capturing when the user declines later', async () => {
      const connector = new SettingsConnector({ consent: 'opt-in' });
      const registry = await settingRegistry(connector);
      const { commands, consent } = await activate(registry, {
        consent: true
      });
      await until(() => shown().length === 1);
      click(shown()[0], 'Agree');
      await until(() => consent!.allowsCapture);

      await commands.execute('jupyter-events-ext:change-consent');
      click(shown()[0], 'Decline');
      await until(() => !consent!.allowsCapture);
      await commands.execute('test:run');

      expect(await recorded(COMMAND_SCHEMA)).toEqual([
        { command_id: 'jupyter-events-ext:change-consent' }
      ]);
      expect(await recorded(CONSENT_SCHEMA)).toEqual([
        { decision: 'agreed' },
        { decision: 'declined', previous: 'agreed' }
      ]);
    });

    it('capture nothing without the consent plugin to ask', async () => {
      const connector = new SettingsConnector({ consent: 'opt-in' });
      const registry = await settingRegistry(connector);
      const { commands } = await activate(registry);

      await commands.execute('test:run');
      expect(await recorded(COMMAND_SCHEMA)).toEqual([]);
    });

    it('keep asking when the operator locks it, whatever the user set', async () => {
      const connector = new SettingsConnector({
        consent: 'opt-in',
        locked: ['consent']
      });
      await connector.setUser({ consent: 'none' });
      const registry = await settingRegistry(connector);
      const { commands } = await activate(registry, { consent: true });

      await until(() => shown().length === 1);
      await commands.execute('test:run');
      expect(await recorded(COMMAND_SCHEMA)).toEqual([]);
    });
  });

  it('show the notice on first run in the default mode, and capture', async () => {
    const registry = await settingRegistry(new SettingsConnector());
    const { commands } = await activate(registry, { consent: true });
    await until(() => shown().length === 1);
    expect(shown()[0].options.actions?.map(a => a.label)).toEqual([
      'Details',
      'Settings'
    ]);

    await commands.execute('test:run');
    expect(await recorded(COMMAND_SCHEMA)).toEqual([
      { command_id: 'test:run' }
    ]);
  });

  it('put the state in the status bar, and open the Event Viewer from it', async () => {
    const connector = new SettingsConnector({ consent: 'opt-in' });
    const registry = await settingRegistry(connector);
    const items: Widget[] = [];
    const { commands, consent } = await activate(registry, {
      consent: true,
      statusBar: { items }
    });
    const opened: string[] = [];
    commands.addCommand('jupyter-events-ext:open-viewer', {
      execute: () => void opened.push('viewer')
    });
    expect(items).toHaveLength(1);
    const item = items[0] as EventsStatus;
    await until(() => item.summary.connected);
    expect(item.summary.text).toBe(
      'Not recording (no consent yet) · 0 waiting · connected'
    );

    await until(() => shown().length === 1);
    click(shown()[0], 'Agree');
    await until(() => consent!.allowsCapture);
    expect(item.summary.text).toMatch(/^Recording \(you agreed\) · /);

    item.node.click();
    expect(opened).toEqual(['viewer']);
  });
});
