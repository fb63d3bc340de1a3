import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  MainAreaWidget,
  WidgetTracker
} from '@jupyterlab/apputils';
import { IConsoleTracker } from '@jupyterlab/console';
import { IDocumentWidgetOpener } from '@jupyterlab/docmanager';
import { IMainMenu } from '@jupyterlab/mainmenu';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator } from '@jupyterlab/translation';
import { listIcon } from '@jupyterlab/ui-components';

import { ActionCapture, captureConfig } from './capture';
import { EventsClient } from './client';
import { requestAPI } from './request';
import { IEventsClient } from './tokens';
import { EventViewer } from './viewer';

export { ActionCapture } from './capture';
export { EventsClient } from './client';
export { EventQueue } from './queue';
export { EventStream } from './stream';
export { IEventsClient } from './tokens';
export { EventValidationError, SchemaValidator } from './validator';
export { EventViewer } from './viewer';

/**
 * The id of the plugin that provides the client; its settings are the
 * "Events" page of the Settings Editor, shared with the capture.
 */
const SETTINGS_ID = 'jupyter-events-ext:plugin';

/**
 * The command that opens the Event Viewer.
 */
const OPEN_VIEWER = 'jupyter-events-ext:open-viewer';

/**
 * The events client, for every extension to require.
 */
const clientPlugin: JupyterFrontEndPlugin<IEventsClient> = {
  id: SETTINGS_ID,
  description:
    'Provides the events client: validated, batched events kept in the browser until the server has them.',
  autoStart: true,
  provides: IEventsClient,
  optional: [ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    settingRegistry: ISettingRegistry | null
  ): IEventsClient => {
    const client = new EventsClient({
      serverSettings: app.serviceManager.serverSettings
    });
    if (settingRegistry) {
      void settingRegistry
        .load(SETTINGS_ID)
        .then(settings => {
          const apply = () =>
            client.configure(Private.clientConfig(Private.effective(settings)));
          apply();
          settings.changed.connect(apply);
        })
        .catch(reason =>
          console.error('jupyter-events-ext: cannot load the settings', reason)
        );
    }
    return client;
  }
};

/**
 * The automatic capture of UI actions, driven by the settings.
 */
const capturePlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-events-ext:capture',
  description:
    'Records UI actions (commands, documents, cell executions, kernels, the document in focus) as events, as the settings say.',
  autoStart: true,
  requires: [IEventsClient],
  optional: [
    ISettingRegistry,
    IDocumentWidgetOpener,
    ILabShell,
    IConsoleTracker,
    ITranslator
  ],
  activate: async (
    app: JupyterFrontEnd,
    client: IEventsClient,
    settingRegistry: ISettingRegistry | null,
    opener: IDocumentWidgetOpener | null,
    shell: ILabShell | null,
    consoles: IConsoleTracker | null,
    translator: ITranslator | null
  ): Promise<void> => {
    // Nothing is recorded until the settings (and any operator lock) are read.
    let config: Partial<ActionCapture.IConfig> = { enabled: false };
    let settings: ISettingRegistry.ISettings | null = null;
    if (settingRegistry) {
      try {
        settings = await settingRegistry.load(SETTINGS_ID);
        config = captureConfig(Private.effective(settings));
      } catch (reason) {
        console.error('jupyter-events-ext: cannot load the settings', reason);
      }
    } else {
      config = {};
    }
    const capture = new ActionCapture({
      client,
      commands: app.commands,
      opener,
      docRegistry: app.docRegistry,
      shell,
      consoles,
      translator,
      config
    });
    settings?.changed.connect(() =>
      capture.configure(captureConfig(Private.effective(settings!)))
    );
    // The deployment's key for hashing paths: until it arrives, hashed paths are left out.
    requestAPI<{ path_hash_key?: string | null }>(
      'info',
      {},
      client.serverSettings
    )
      .then(info => {
        if (info?.path_hash_key) {
          capture.setPathKey(info.path_hash_key);
        }
      })
      .catch(reason =>
        console.warn('jupyter-events-ext: no key to hash paths with', reason)
      );
  }
};

/**
 * The Event Viewer panel and the command that opens it.
 */
const viewerPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-events-ext:viewer',
  description:
    'Adds the Event Viewer: live events, what waits to be sent, and what each schema records.',
  autoStart: true,
  requires: [IEventsClient],
  optional: [ICommandPalette, IMainMenu, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    client: IEventsClient,
    palette: ICommandPalette | null,
    mainMenu: IMainMenu | null,
    restorer: ILayoutRestorer | null
  ): void => {
    const tracker = new WidgetTracker<MainAreaWidget<EventViewer>>({
      namespace: 'jupyter-events-ext-viewer'
    });
    app.commands.addCommand(OPEN_VIEWER, {
      label: 'Event Viewer',
      caption: 'Show the events recorded by the server, live',
      icon: args => (args.isPalette ? undefined : listIcon),
      execute: () => {
        let widget = tracker.currentWidget;
        if (!widget || widget.isDisposed) {
          widget = new MainAreaWidget({
            content: new EventViewer({ client })
          });
          widget.id = 'jupyter-events-ext-viewer';
          widget.title.label = 'Event Viewer';
          widget.title.icon = listIcon;
          widget.title.closable = true;
          void tracker.add(widget);
        }
        if (!widget.isAttached) {
          app.shell.add(widget, 'main');
        }
        app.shell.activateById(widget.id);
        return widget;
      }
    });
    palette?.addItem({ command: OPEN_VIEWER, category: 'Events' });
    mainMenu?.viewMenu.addGroup([{ command: OPEN_VIEWER }], 100);
    if (restorer) {
      void restorer.restore(tracker, {
        command: OPEN_VIEWER,
        name: () => 'viewer'
      });
    }
  }
};

export default [clientPlugin, capturePlugin, viewerPlugin];

namespace Private {
  type Composite = ISettingRegistry.ISettings['composite'];

  /**
   * The settings in force: the user's, except those the operator locked,
   * which keep their default — the value overrides.json gives them. The list
   * itself is read from the defaults only, so that only overrides.json sets it.
   */
  export function effective(settings: ISettingRegistry.ISettings): Composite {
    const locked = settings.default('locked');
    const values = { ...settings.composite };
    if (Array.isArray(locked)) {
      for (const key of locked) {
        values[String(key)] = settings.default(String(key));
      }
    }
    return values;
  }

  /**
   * The delivery settings.
   */
  export function clientConfig(
    composite: Composite
  ): Partial<EventsClient.IConfig> {
    return {
      batchSize: composite.batchSize as number,
      batchInterval: composite.batchInterval as number,
      queueBound: composite.queueBound as number
    };
  }
}
