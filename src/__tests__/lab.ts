import {
  type Event,
  IEventManager,
  IServerSettings
} from '@jupyterlab/services';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStateDB, StateDB } from '@jupyterlab/statedb';
import { IStatusBar } from '@jupyterlab/statusbar';
import { CommandRegistry } from '@lumino/commands';
import { type IPlugin, PluginRegistry } from '@lumino/coreutils';
import { Widget } from '@lumino/widgets';

import plugins from '../index';
import type { ActionCapture } from '../capture/capture';
import {
  ICaptureDrops,
  IEventsClient,
  IEventsConsent,
  IEventsSettings
} from '../tokens';
import type { FakeServer } from './fakeserver';
import { until } from './notifications';

/**
 * This package's plugins as JupyterLab starts them: through Lumino's plugin
 * registry, each given the services its tokens ask for. JupyterLab's own
 * services are the real ones where they run here (the setting registry, the
 * state database); the status bar is a list of its items. One command,
 * `test:run`, is there to be captured; `settingeditor:open` stands for the
 * Settings Editor.
 */
export class TestLab {
  /**
   * Start every plugin but those `without` names (and the Activity view,
   * which needs the rendermime registry), and wait for the settings to be
   * read and for capture to have the key to hash paths with.
   */
  static async start(
    server: FakeServer,
    options: {
      registry: ISettingRegistry;
      state?: IStateDB;
      without?: ReadonlyArray<string>;
    }
  ): Promise<TestLab> {
    const lab = new TestLab();
    const without = new Set([
      'jupyter-events-ext:activity',
      ...(options.without ?? [])
    ]);
    const state = options.state ?? new StateDB();
    lab.commands.addCommand('test:run', { execute: () => undefined });
    // JupyterLab's Settings Editor, which the notice offers.
    lab.commands.addCommand('settingeditor:open', {
      execute: () => undefined
    });
    const services: IPlugin<any, any>[] = [
      {
        id: 'test:settings',
        provides: ISettingRegistry,
        activate: () => options.registry
      },
      { id: 'test:state', provides: IStateDB, activate: () => state },
      {
        id: 'test:statusbar',
        provides: IStatusBar,
        activate: () => ({
          registerStatusItem: (_: string, item: { item: Widget }) => {
            lab.statusItems.push(item.item);
            return { dispose: () => undefined };
          }
        })
      }
    ];
    const serviceManager: { serverSettings: unknown; events?: unknown } = {
      serverSettings: server.settings
    };
    services.push({
      id: 'test:server-settings',
      provides: IServerSettings,
      activate: () => server.settings
    });
    lab._plugins.application = {
      commands: lab.commands,
      docRegistry: null,
      restored: Promise.resolve(),
      serviceManager,
      shell: {
        add: (widget: Widget) => Widget.attach(widget, document.body),
        activateById: () => undefined
      }
    };
    lab._plugins.registerPlugins([
      ...services,
      ...plugins.filter(plugin => !without.has(plugin.id))
    ]);
    // The service manager is made first, of the service-manager plugins.
    if (!without.has('jupyter-events-ext:event-manager')) {
      lab.events = await lab._plugins.resolveRequiredService(IEventManager);
      serviceManager.events = lab.events;
    }
    await lab._plugins.activatePlugins('startUp');
    // Without the client plugin, no client (and no capture).
    lab.client = (await lab._plugins.resolveOptionalService(IEventsClient))!;
    lab.settings = await lab._plugins.resolveRequiredService(IEventsSettings);
    lab.consent = await lab._plugins.resolveOptionalService(IEventsConsent);
    await lab.settings.ready;
    // Capture asks the server for its path policy and the key to hash paths
    // with, and holds what it captures until they are known: let it have them.
    if (!without.has('jupyter-events-ext:capture')) {
      const capture = (await lab._plugins.resolveOptionalService(
        ICaptureDrops
      )) as ActionCapture | null;
      await until(() => server.answered.includes('info'));
      await capture?.pathsReleased;
    }
    return lab;
  }

  readonly commands = new CommandRegistry();
  readonly statusItems: Widget[] = [];
  client!: IEventsClient;
  /**
   * JupyterLab's event manager, as this package serves it.
   */
  events: Event.IManager | null = null;
  settings!: IEventsSettings;
  consent!: IEventsConsent | null;

  dispose(): void {
    this.events?.dispose();
    this.client?.dispose();
    for (const item of this.statusItems) {
      item.dispose();
    }
  }

  private _plugins = new PluginRegistry();
}
