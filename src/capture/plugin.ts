import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { IConsoleTracker } from '@jupyterlab/console';
import { IDocumentWidgetOpener } from '@jupyterlab/docmanager';
import { ITranslator } from '@jupyterlab/translation';

import { requestAPI } from '../client/request';
import { pathModeOf } from '../settings/recording';
import { ICaptureDrops, IEventsClient, IEventsSettings } from '../tokens';
import { ActionCapture } from './capture';

/**
 * The automatic capture of UI actions, as the settings model says.
 */
export const capturePlugin: JupyterFrontEndPlugin<ICaptureDrops> = {
  id: 'jupyter-events-ext:capture',
  description:
    'Records UI actions (commands, documents, cell executions, kernels, the document in focus) as events, as the settings say.',
  autoStart: true,
  requires: [IEventsClient, IEventsSettings],
  provides: ICaptureDrops,
  optional: [IDocumentWidgetOpener, IConsoleTracker, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    client: IEventsClient,
    settings: IEventsSettings,
    opener: IDocumentWidgetOpener | null,
    consoles: IConsoleTracker | null,
    translator: ITranslator | null
  ): ICaptureDrops => {
    const capture = new ActionCapture({
      client,
      commands: app.commands,
      opener,
      docRegistry: app.docRegistry,
      // The document in focus: JupyterLab's shell and Jupyter Notebook's
      // both say it (ILabShell is JupyterLab's only).
      shell: app.shell,
      consoles,
      translator,
      config: Private.inForce(settings)
    });
    settings.changed.connect(() =>
      capture.configure(Private.inForce(settings))
    );
    // The server's path policy and the deployment's key for hashing paths.
    // Until both are known, what is captured waits with its paths, then goes
    // with them as the policy says (after HOLD_MS without an answer, as the
    // settings model says then: without them).
    const info = requestAPI<{
      path_mode?: string;
      path_hash_key?: string | null;
    }>('info', {}, client.serverSettings);
    const policyKnown = settings.useServerPathMode(
      info.then(answer => pathModeOf(answer?.path_mode))
    );
    const keyKnown = info
      .then(answer => {
        if (answer?.path_hash_key) {
          capture.setPathKey(answer.path_hash_key);
        }
      })
      .catch(reason =>
        console.warn('jupyter-events-ext: no key to hash paths with', reason)
      );
    let timer: ReturnType<typeof setTimeout> | undefined;
    capture.holdPathsUntil(
      Promise.race([
        Promise.all([policyKnown, keyKnown]),
        new Promise(resolve => (timer = setTimeout(resolve, Private.HOLD_MS)))
      ]).finally(() => clearTimeout(timer))
    );
    return capture;
  }
};

namespace Private {
  /**
   * How long what is captured waits for the server's path policy at most.
   */
  export const HOLD_MS = 10_000;

  /**
   * The capture configuration in force: the settings model's answer of what
   * is recorded (off until the settings are read, and while the consent
   * withholds it), and how paths are.
   */
  export function inForce(
    settings: IEventsSettings
  ): Partial<ActionCapture.IConfig> {
    const { config, recording } = settings;
    if (!config || !recording) {
      return { enabled: false };
    }
    return {
      ...config.capture,
      enabled: recording.capture,
      pathMode: recording.pathMode
    };
  }
}
