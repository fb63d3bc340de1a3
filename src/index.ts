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
import { IStateDB } from '@jupyterlab/statedb';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { activityPlugin } from './activity/plugin';
import { ActionCapture, captureConfig } from './capture';
import { DEFAULT_CONFIG, KINDS } from './capture/config';
import { EventsClient } from './client/client';
import {
  captureAllowed,
  ConsentKeeper,
  IEventsConsent
} from './consent/keeper';
import { OperatorLocks } from './settings/locks';
import { Reasons } from './client/reason';
import { requestAPI } from './client/request';
import { EventsStatus } from './statusbar/item';
import { ICaptureDrops, IEventsClient } from './tokens';
import { EventViewer } from './viewer/widget';
import {
  addViewerCommands,
  CommandIDs as ViewerCommandIDs
} from './viewer/commands';

export { ActionCapture } from './capture';
export { EventsClient } from './client/client';
export { IEventsConsent } from './consent/keeper';
export { EventQueue } from './client/queue';
export { EventStream } from './stream/subscription';
export { ICaptureDrops, IEventsClient } from './tokens';
export { EventValidationError, SchemaValidator } from './client/validator';
export { EventViewer } from './viewer/widget';

/**
 * The id of the plugin that provides the client; its settings are the
 * "Events" page of the Settings Editor, shared with the capture.
 */
const SETTINGS_ID = 'jupyter-events-ext:plugin';

/**
 * The command that asks the user's consent again (in the opt-in mode).
 */
const CHANGE_CONSENT = 'jupyter-events-ext:change-consent';

/**
 * The events client, for every extension to require.
 */
const clientPlugin: JupyterFrontEndPlugin<IEventsClient> = {
  id: SETTINGS_ID,
  description:
    'Provides the events client: validated, batched events kept in the browser until the server has them.',
  autoStart: true,
  provides: IEventsClient,
  optional: [ISettingRegistry, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null
  ): IEventsClient => {
    Reasons.translator = translator ?? nullTranslator;
    const client = new EventsClient({
      serverSettings: app.serviceManager.serverSettings
    });
    if (settingRegistry) {
      // Operator locks act in the registry, before anything loads the settings.
      OperatorLocks.register(
        settingRegistry,
        SETTINGS_ID,
        (translator ?? nullTranslator).load('jupyter_events_ext')
      );
      void settingRegistry
        .load(SETTINGS_ID)
        .then(settings => {
          const apply = () =>
            client.configure(Private.clientConfig(settings.composite));
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
const capturePlugin: JupyterFrontEndPlugin<ICaptureDrops> = {
  id: 'jupyter-events-ext:capture',
  description:
    'Records UI actions (commands, documents, cell executions, kernels, the document in focus) as events, as the settings say.',
  autoStart: true,
  requires: [IEventsClient],
  provides: ICaptureDrops,
  optional: [
    ISettingRegistry,
    IDocumentWidgetOpener,
    ILabShell,
    IConsoleTracker,
    IEventsConsent,
    ITranslator
  ],
  activate: async (
    app: JupyterFrontEnd,
    client: IEventsClient,
    settingRegistry: ISettingRegistry | null,
    opener: IDocumentWidgetOpener | null,
    shell: ILabShell | null,
    consoles: IConsoleTracker | null,
    consent: IEventsConsent | null = null,
    translator: ITranslator | null = null
  ): Promise<ICaptureDrops> => {
    // Nothing is recorded until the settings (and any operator lock) are read,
    // nor in the opt-in mode before the user agreed. Not awaited here: the
    // remembered decision (IStateDB) is read only once the application started.
    let config: Partial<ActionCapture.IConfig> = { enabled: false };
    let settings: ISettingRegistry.ISettings | null = null;
    if (settingRegistry) {
      try {
        settings = await settingRegistry.load(SETTINGS_ID);
        config = Private.consented(
          captureConfig(settings.composite),
          settings.composite,
          consent
        );
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
    if (settings) {
      const reconfigure = () =>
        capture.configure(
          Private.consented(
            captureConfig(settings!.composite),
            settings!.composite,
            consent
          )
        );
      settings.changed.connect(reconfigure);
      consent?.changed.connect(reconfigure);
    }
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
    return capture;
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
    ISettingRegistry,
    ICaptureDrops
  ],
  activate: (
    app: JupyterFrontEnd,
    client: IEventsClient,
    palette: ICommandPalette | null,
    mainMenu: IMainMenu | null,
    restorer: ILayoutRestorer | null,
    translator: ITranslator | null,
    settingRegistry: ISettingRegistry | null,
    captureDrops: ICaptureDrops | null = null
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
            recording = ViewerPrivate.recording(settings.composite);
            viewers.forEach(viewer => (viewer.recording = recording));
          };
          follow();
          settings.changed.connect(follow);
        })
        .catch(reason =>
          console.error('jupyter-events-ext: cannot load the settings', reason)
        );
    }
    captureDrops?.dropsChanged.connect((_, drops) =>
      viewers.forEach(viewer => (viewer.captureDrops = drops))
    );
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
        viewer.captureDrops = captureDrops?.drops ?? {};
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

/**
 * The notice of what is recorded, or the question asked first, as the
 * `consent` setting says.
 */
const consentPlugin: JupyterFrontEndPlugin<IEventsConsent> = {
  id: 'jupyter-events-ext:consent',
  description:
    'Tells users what is recorded (a notification on first run) or asks their consent first, as the "consent" setting says; records each decision as an event.',
  autoStart: true,
  provides: IEventsConsent,
  requires: [IEventsClient],
  optional: [ISettingRegistry, IStateDB, ITranslator, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    client: IEventsClient,
    settingRegistry: ISettingRegistry | null,
    state: IStateDB | null,
    translator: ITranslator | null,
    palette: ICommandPalette | null
  ): IEventsConsent => {
    const trans = (translator ?? nullTranslator).load('jupyter_events_ext');
    const keeper = new ConsentKeeper({
      client,
      state,
      commands: app.commands,
      trans,
      shown: app.restored
    });
    app.commands.addCommand(CHANGE_CONSENT, {
      label: trans.__('Consent to Recording My Actions…'),
      caption: trans.__(
        'Agree or decline to have your UI actions recorded as events'
      ),
      isEnabled: () => keeper.mode === 'opt-in',
      execute: () => keeper.ask()
    });
    palette?.addItem({
      command: CHANGE_CONSENT,
      category: trans.__('Events')
    });
    keeper.changed.connect(() =>
      app.commands.notifyCommandChanged(CHANGE_CONSENT)
    );
    if (settingRegistry) {
      void settingRegistry
        .load(SETTINGS_ID)
        .then(settings => {
          const apply = () =>
            keeper.configure({
              mode: settings.composite.consent as IEventsConsent.Mode,
              capture: settings.composite.capture !== false,
              kinds: ConsentKeeper.kindsOf(settings.composite, trans)
            });
          apply();
          settings.changed.connect(apply);
        })
        .catch(reason =>
          console.error('jupyter-events-ext: cannot load the settings', reason)
        );
    } else {
      keeper.configure({
        mode: 'notice',
        capture: true,
        kinds: ConsentKeeper.kindsOf({}, trans)
      });
    }
    return keeper;
  }
};

/**
 * The status-bar item: recording or not, what waits, the connection.
 */
const statusPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-events-ext:status',
  description:
    'Shows in the status bar whether UI actions are recorded, how many events wait to be sent and whether the server takes them; a click opens the Event Viewer.',
  autoStart: true,
  requires: [IEventsClient],
  optional: [IStatusBar, IEventsConsent, ISettingRegistry, ITranslator],
  activate: async (
    app: JupyterFrontEnd,
    client: IEventsClient,
    statusBar: IStatusBar | null,
    consent: IEventsConsent | null,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null
  ): Promise<void> => {
    if (!statusBar) {
      return;
    }
    let settings: ISettingRegistry.ISettings | null = null;
    try {
      settings = (await settingRegistry?.load(SETTINGS_ID)) ?? null;
    } catch (reason) {
      console.error('jupyter-events-ext: cannot load the settings', reason);
    }
    const item = new EventsStatus({
      client,
      consent,
      settings,
      commands: app.commands,
      trans: (translator ?? nullTranslator).load('jupyter_events_ext')
    });
    statusBar.registerStatusItem(statusPlugin.id, {
      item,
      align: 'left',
      rank: 100
    });
  }
};

namespace ViewerPrivate {
  /**
   * What this browser records, as the settings in force say: their
   * composite, where the operator's locks are applied already (the
   * `OperatorLocks` transform); `locked` names the locked settings, for the
   * Viewer to mark. A kind the settings do not mention has its default.
   */
  export function recording(
    composite: ISettingRegistry.ISettings['composite']
  ): EventViewer.IRecording {
    const locked = Array.isArray(composite.locked)
      ? composite.locked.map(String)
      : [];
    const kinds = {} as Record<EventViewer.CaptureKind, boolean>;
    for (const kind of KINDS) {
      const on = composite[kind];
      kinds[kind] = typeof on === 'boolean' ? on : DEFAULT_CONFIG[kind];
    }
    return {
      ...kinds,
      capture: composite.capture !== false,
      pathMode:
        (composite.pathMode as EventViewer.IRecording['pathMode']) ?? 'hashed',
      locked
    };
  }
}

export default [
  clientPlugin,
  capturePlugin,
  viewerPlugin,
  consentPlugin,
  statusPlugin,
  activityPlugin
];

namespace Private {
  type Composite = ISettingRegistry.ISettings['composite'];

  /**
   * The capture configuration, off in the opt-in mode until the user agreed.
   */
  export function consented(
    config: Partial<ActionCapture.IConfig>,
    composite: Composite,
    consent: IEventsConsent | null
  ): Partial<ActionCapture.IConfig> {
    return {
      ...config,
      enabled:
        config.enabled !== false && captureAllowed(composite.consent, consent)
    };
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
