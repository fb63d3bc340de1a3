import { CommandRegistry } from '@lumino/commands';
import { Signal } from '@lumino/signaling';

import plugins from '../index';
import type { IEventsClient } from '../tokens';
import { FakeServer } from './fakeserver';

/**
 * The settings of one plugin, as the setting registry hands them out.
 */
class FakeSettings {
  constructor(
    public composite: Record<string, unknown>,
    private _defaults: Record<string, unknown> = DEFAULTS
  ) {}
  changed = new Signal<this, void>(this);
  default(key: string) {
    return this._defaults[key];
  }
  set(values: Record<string, unknown>) {
    this.composite = { ...this.composite, ...values };
    this.changed.emit();
  }
}

const DEFAULTS = {
  capture: true,
  commands: true,
  documents: true,
  cellExecution: true,
  kernels: true,
  activeDocument: true,
  commandAllow: ['*'],
  commandDeny: [],
  commandArgs: [],
  pathMode: 'hashed',
  batchSize: 200,
  batchInterval: 1000,
  queueBound: 10000,
  locked: [] as string[]
};

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
  async function activate(registry: unknown): Promise<CommandRegistry> {
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
    const settings = new FakeSettings({ ...DEFAULTS });
    const registry = { load: async () => settings };
    const commands = await activate(registry);
    const emit = jest
      .spyOn(client, 'emit')
      .mockImplementation(() => Promise.resolve({ id: 'x', durable: true }));

    await commands.execute('test:run');
    expect(emit).toHaveBeenCalledTimes(1);

    settings.set({ capture: false });
    await commands.execute('test:run');
    expect(emit).toHaveBeenCalledTimes(1);

    settings.set({ capture: true, commandDeny: ['test:*'] });
    await commands.execute('test:run');
    expect(emit).toHaveBeenCalledTimes(1);

    settings.set({ commandDeny: [], queueBound: 20 });
    await commands.execute('test:run');
    expect(emit).toHaveBeenCalledTimes(2);
    expect((client as any)._queue.bound).toBe(20);
  });

  it('keep the operator’s value of the settings overrides.json locks', async () => {
    // overrides.json changes the defaults: capture off, and locked.
    const defaults = { ...DEFAULTS, capture: false, locked: ['capture'] };
    const settings = new FakeSettings({ ...defaults, capture: true }, defaults);
    const registry = { load: async () => settings };
    const commands = await activate(registry);
    const emit = jest.spyOn(client, 'emit');

    await commands.execute('test:run');
    // A user cannot unlock it either.
    settings.set({ capture: true, locked: [] });
    await commands.execute('test:run');
    expect(emit).not.toHaveBeenCalled();
  });

  it('capture nothing when the settings cannot be read', async () => {
    const registry = {
      load: () => Promise.reject(new Error('no settings'))
    };
    const error = jest.spyOn(console, 'error').mockImplementation(() => {});
    const commands = await activate(registry);
    const emit = jest.spyOn(client, 'emit');
    await commands.execute('test:run');
    expect(emit).not.toHaveBeenCalled();
    error.mockRestore();
  });
});
