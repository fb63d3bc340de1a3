import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IConsoleTracker } from '@jupyterlab/console';
import { IDocumentWidgetOpener } from '@jupyterlab/docmanager';
import { IMainMenu } from '@jupyterlab/mainmenu';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { ActionCapture } from './capture';
import { EventsClient } from './client';
import { requestAPI } from './request';
import { IEventsClient } from './tokens';
import { EventViewer } from './viewer';
import {
  addViewerCommands,
  CommandIDs as ViewerCommandIDs
} from './viewerCommands';

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
    IConsoleTracker
  ],
  activate: async (
    app: JupyterFrontEnd,
    client: IEventsClient,
    settingRegistry: ISettingRegistry | null,
    opener: IDocumentWidgetOpener | null,
    shell: ILabShell | null,
    consoles: IConsoleTracker | null
  ): Promise<void> => {
    // Nothing is recorded until the settings (and any operator lock) are read.
    let config: Partial<ActionCapture.IConfig> = { enabled: false };
    let settings: ISettingRegistry.ISettings | null = null;
    if (settingRegistry) {
      try {
        settings = await settingRegistry.load(SETTINGS_ID);
        config = Private.captureConfig(Private.effective(settings));
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
      config
    });
    settings?.changed.connect(() =>
      capture.configure(Private.captureConfig(Private.effective(settings!)))
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
 * The Event Viewer panel and its commands (`viewerCommands.ts`).
 */
const viewerPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-events-ext:viewer',
  description:
    'Adds the Event Viewer: live events, what waits to be sent, and what this browser records.',
  autoStart: true,
  requires: [IEventsClient],
  optional: [
    ICommandPalette,
    IMainMenu,
    ILayoutRestorer,
    ITranslator,
    ISettingRegistry
  ],
  activate: (
    app: JupyterFrontEnd,
    client: IEventsClient,
    palette: ICommandPalette | null,
    mainMenu: IMainMenu | null,
    restorer: ILayoutRestorer | null,
    translator: ITranslator | null,
    settingRegistry: ISettingRegistry | null
  ): void => {
    translator = translator ?? nullTranslator;
    const trans = translator.load('jupyter_events_ext');
    // What this browser records, for "What this browser records": the
    // settings in force, read once and followed.
    let recording: EventViewer.IRecording | null = null;
    const viewers = new Set<EventViewer>();
    if (settingRegistry) {
      void settingRegistry
        .load(SETTINGS_ID)
        .then(settings => {
          const follow = () => {
            recording = ViewerPrivate.recording(settings);
            viewers.forEach(viewer => (viewer.recording = recording));
          };
          follow();
          settings.changed.connect(follow);
        })
        .catch(reason =>
          console.error('jupyter-events-ext: cannot load the settings', reason)
        );
    }
    const tracker = addViewerCommands({
      commands: app.commands,
      shell: app.shell,
      palette,
      trans,
      createViewer: () => {
        const viewer = new EventViewer({
          client,
          translator: translator!,
          recording,
          onOpenSettings: () =>
            void app.commands.execute(ViewerCommandIDs.openSettings)
        });
        viewers.add(viewer);
        viewer.disposed.connect(() => viewers.delete(viewer));
        return viewer;
      }
    });
    mainMenu?.viewMenu.addGroup([{ command: ViewerCommandIDs.open }], 100);
    if (restorer) {
      void restorer.restore(tracker, {
        command: ViewerCommandIDs.open,
        name: () => 'viewer'
      });
    }
  }
};

namespace ViewerPrivate {
  /**
   * What this browser records, as the settings in force say: an operator's
   * lock keeps a setting at the value overrides.json gives it.
   */
  export function recording(
    settings: ISettingRegistry.ISettings
  ): EventViewer.IRecording {
    const lockedValue = settings.default('locked');
    const locked = Array.isArray(lockedValue) ? lockedValue.map(String) : [];
    const value = (key: string) =>
      locked.includes(key) ? settings.default(key) : settings.composite[key];
    return {
      capture: value('capture') !== false,
      commands: value('commands') !== false,
      documents: value('documents') !== false,
      cellExecution: value('cellExecution') !== false,
      kernels: value('kernels') !== false,
      activeDocument: value('activeDocument') !== false,
      pathMode:
        (value('pathMode') as EventViewer.IRecording['pathMode']) ?? 'hashed',
      locked
    };
  }
}

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

  /**
   * The capture settings.
   */
  export function captureConfig(
    composite: Composite
  ): Partial<ActionCapture.IConfig> {
    return {
      enabled: composite.capture as boolean,
      commands: composite.commands as boolean,
      documents: composite.documents as boolean,
      cellExecution: composite.cellExecution as boolean,
      kernels: composite.kernels as boolean,
      activeDocument: composite.activeDocument as boolean,
      commandAllow: composite.commandAllow as string[],
      commandDeny: composite.commandDeny as string[],
      commandArgs: composite.commandArgs as string[],
      pathMode: composite.pathMode as ActionCapture.PathMode
    };
  }
}
