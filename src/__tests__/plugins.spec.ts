import { SettingRegistry } from '@jupyterlab/settingregistry';
import { CommandRegistry } from '@lumino/commands';

import plugins from '../index';
import type { IEventsClient } from '../tokens';
import { FakeServer } from './fakeserver';
import { SETTINGS_ID, SettingsConnector, settingRegistry } from './settings';

describe('plugins', () => {
  const [clientPlugin, capturePlugin] = plugins;
  let server: FakeServer;
  let client: IEventsClient;

  beforeEach(async () => {
    server = await FakeServer.start();
  });

  afterEach(async () => {
    client?.dispose();
    await server.close();
  });

  /**
   * Activate the client and capture plugins on a bare app with one command, test:run.
   */
  async function activate(registry: SettingRegistry): Promise<CommandRegistry> {
    const commands = new CommandRegistry();
    commands.addCommand('test:run', { execute: () => undefined });
    const app = {
      commands,
      docRegistry: null,
      serviceManager: { serverSettings: server.settings }
    } as any;
    client = (clientPlugin as any).activate(app, registry);
    await (capturePlugin as any).activate(app, client, registry, null, null);
    // Capture asks the server for the key to hash paths with; let it have its answer.
    while (!server.answered.includes('info')) {
      await new Promise(resolve => setTimeout(resolve, 5));
    }
    return commands;
  }

  it('apply setting changes at once, without a reload', async () => {
    const registry = await settingRegistry(new SettingsConnector());
    const commands = await activate(registry);
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
    const commands = await activate(registry);
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
    const commands = await activate(registry);
    const emit = jest.spyOn(client, 'emit');
    await commands.execute('test:run');
    expect(emit).not.toHaveBeenCalled();
    error.mockRestore();
  });
});
