import { Notification } from '@jupyterlab/apputils';
import type { ISettingRegistry } from '@jupyterlab/settingregistry';
import { StateDB } from '@jupyterlab/statedb';
import { nullTranslator } from '@jupyterlab/translation';
import { CommandRegistry } from '@lumino/commands';
import type { PartialJSONObject } from '@lumino/coreutils';
import { MessageLoop } from '@lumino/messaging';
import { IDBFactory } from 'fake-indexeddb';

import { EventsClient } from '../client/client';
import { ConsentKeeper } from '../consent/keeper';
import { OperatorLocks } from '../settings/locks';
import { EventsSettings } from '../settings/model';
import { EventsStatus } from '../statusbar/item';
import { FakeServer } from './fakeserver';
import { until } from './notifications';
import { shippedSchemas } from './shipped';
import { SETTINGS_ID, SettingsConnector, settingRegistry } from './settings';

const trans = nullTranslator.load('jupyter_events_ext');

const COMMAND = 'https://events.jupyter.org/jupyter_events_ext/command/v1';

describe('EventsStatus', () => {
  let server: FakeServer;
  let client: EventsClient;
  let commands: CommandRegistry;
  let opened: number;
  let status: EventsStatus;
  let settings: EventsSettings;

  /**
   * The item as drawn (it renders through React, after its model changed).
   */
  async function rendered(): Promise<EventsStatus> {
    await until(() => {
      MessageLoop.flush();
      return status.node.textContent === status.summary.text;
    });
    return status;
  }

  /**
   * The settings model over these user settings (locks applied), and the
   * settings a user changes.
   */
  async function model(
    user: PartialJSONObject
  ): Promise<[EventsSettings, ISettingRegistry.ISettings]> {
    const connector = new SettingsConnector();
    await connector.setUser(user);
    const registry = await settingRegistry(connector);
    OperatorLocks.register(registry, SETTINGS_ID, trans);
    const loaded = await registry.load(SETTINGS_ID);
    return [new EventsSettings({ settings: loaded }), loaded];
  }

  beforeEach(async () => {
    server = await FakeServer.start(shippedSchemas());
    client = new EventsClient({
      serverSettings: server.settings,
      indexedDB: new IDBFactory(),
      storage: null,
      batchInterval: 20,
      maxRetryInterval: 100
    });
    settings = new EventsSettings();
    commands = new CommandRegistry();
    opened = 0;
    commands.addCommand(EventsStatus.OPEN_VIEWER, {
      execute: () => void opened++
    });
  });

  afterEach(async () => {
    status?.dispose();
    client.dispose();
    await server.close();
  });

  it('says that actions are recorded, what waits and that the server takes them', async () => {
    status = new EventsStatus({ client, settings, commands, trans });
    await client.emit(COMMAND, { command_id: 'test:run' });
    await server.waitFor(1);
    await until(() => status.summary.connected && status.summary.waiting === 0);

    expect(status.summary.capturing).toBe(true);
    await rendered();
    expect(status.node.textContent).toBe('Recording · 0 waiting · connected');
    expect(status.node.title).toBe(
      [
        'Your UI actions are recorded as events, as the Events settings say.',
        '0 events wait in this browser to be sent.',
        'The server takes events.',
        'Click to open the Event Viewer.'
      ].join('\n')
    );
    expect(status.node.getAttribute('role')).toBe('button');
  });

  it('says when events go by POST because the events socket cannot be used', async () => {
    server.refuseEventSockets = 404;
    status = new EventsStatus({ client, settings, commands, trans });
    await client.emit(COMMAND, { command_id: 'test:run' });
    await server.waitFor(1);
    await until(
      () => client.state.transport === 'post' && client.state.waiting === 0
    );
    status.refresh();
    await rendered();

    expect(status.node.textContent).toBe('Recording · 0 waiting · connected');
    expect(status.node.title.split('\n')[2]).toBe(
      'The server takes events, by HTTP POST: the events socket could not be used (a proxy that does not pass WebSockets?).'
    );
  });

  it('counts the events waiting while the server fails, and says why', async () => {
    status = new EventsStatus({ client, settings, commands, trans });
    server.mode = 'unavailable';
    await client.emit(COMMAND, { command_id: 'test:run' });
    await client.emit(COMMAND, { command_id: 'test:run' });
    await until(
      () => !status.summary.connected && status.summary.waiting === 2
    );
    await rendered();

    expect(status.node.textContent).toBe(
      'Recording · 2 waiting · server error'
    );
    expect(status.node.dataset.connected).toBe('false');
    expect(status.node.title).toContain('2 events wait in this browser');
    expect(status.node.title).toContain('The server failed (503');

    server.mode = 'ok';
    await until(() => status.summary.connected && status.summary.waiting === 0);
    await rendered();
    expect(status.node.textContent).toBe('Recording · 0 waiting · connected');
  });

  it('follows the consent in the opt-in mode', async () => {
    const consent = new ConsentKeeper({
      client,
      state: new StateDB(),
      commands,
      trans
    });
    consent.configure({ mode: 'opt-in', capture: true, kinds: [] });
    [settings] = await model({ consent: 'opt-in' });
    settings.useConsent(consent);
    status = new EventsStatus({ client, settings, commands, trans });
    expect(status.summary.capturing).toBe(false);
    expect(status.summary.text).toMatch(/^Not recording \(no consent yet\) · /);

    await consent.decide('agreed');
    expect(status.summary.capturing).toBe(true);
    expect(status.summary.text).toMatch(/^Recording \(you agreed\) · /);

    await consent.decide('declined');
    expect(status.summary.text).toMatch(/^Not recording \(declined\) · /);
    await rendered();
    expect(status.node.dataset.capturing).toBe('false');
    consent.dispose();
    Notification.dismiss();
  });

  it('says when the capture setting is off', async () => {
    let user: ISettingRegistry.ISettings;
    [settings, user] = await model({ capture: false });
    await settings.ready;
    status = new EventsStatus({ client, settings, commands, trans });
    expect(status.summary.text).toMatch(/^Not recording · /);

    await user.set('capture', true);
    expect(status.summary.text).toMatch(/^Recording · /);
  });

  it('opens the Event Viewer on a click or Enter', () => {
    status = new EventsStatus({ client, settings, commands, trans });
    status.node.click();
    status.node.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }));
    expect(opened).toBe(2);
  });
});
