import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { IEventsClient, IEventsSettings } from '../tokens';
import { EventsStatus } from './item';

/**
 * The status-bar item: recording or not, what waits, the connection.
 */
export const statusPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-events-ext:status',
  description:
    'Shows in the status bar whether UI actions are recorded, how many events wait to be sent and whether the server takes them; a click opens the Event Viewer.',
  autoStart: true,
  requires: [IEventsClient, IEventsSettings],
  optional: [IStatusBar, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    client: IEventsClient,
    settings: IEventsSettings,
    statusBar: IStatusBar | null,
    translator: ITranslator | null
  ): void => {
    if (!statusBar) {
      return;
    }
    const item = new EventsStatus({
      client,
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
