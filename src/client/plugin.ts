import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { IEventsClient, IEventsSettings } from '../tokens';
import { EventsClient } from './client';
import { Reasons } from './reason';

/**
 * The events client, for every extension to require. Its id names the
 * settings of the "Events" page (read by the settings plugin only).
 */
export const clientPlugin: JupyterFrontEndPlugin<IEventsClient> = {
  id: 'jupyter-events-ext:plugin',
  description:
    'Provides the events client: validated, batched events kept in the browser until the server has them.',
  autoStart: true,
  provides: IEventsClient,
  requires: [IEventsSettings],
  optional: [ITranslator],
  activate: (
    app: JupyterFrontEnd,
    settings: IEventsSettings,
    translator: ITranslator | null
  ): IEventsClient => {
    Reasons.translator = translator ?? nullTranslator;
    const client = new EventsClient({
      serverSettings: app.serviceManager.serverSettings
    });
    // The delivery settings, applied at once (until read: the defaults).
    let delivery: IEventsSettings.IDelivery | null = null;
    const apply = () => {
      const next = settings.config?.delivery ?? null;
      if (next && next !== delivery) {
        delivery = next;
        client.configure(next);
      }
    };
    apply();
    settings.changed.connect(apply);
    return client;
  }
};
