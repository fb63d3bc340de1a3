import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { PageConfig } from '@jupyterlab/coreutils';
import {
  type Event,
  IEventManager,
  IServerSettings,
  type ServerConnection,
  type ServiceManagerPlugin
} from '@jupyterlab/services';

import { EventsClient } from '../client/client';
import { IEventsClient } from '../tokens';
import { ServedEventManager } from './manager';

/**
 * The id of the plugin that gives the event manager its client.
 */
const ATTACH_ID = 'jupyter-events-ext:event-manager-client';

/**
 * JupyterLab's event manager (`IEventManager`), served by this extension: a
 * service-manager plugin (JupyterLab 4.4 and later), made with the service
 * manager, before the application's plugins; `null` before JupyterLab 4.4,
 * which has no such token (nor such plugins).
 */
export const eventManagerPlugin: ServiceManagerPlugin<Event.IManager> | null =
  IEventManager
    ? {
        id: 'jupyter-events-ext:event-manager',
        description:
          'Serves JupyterLab’s event API (app.serviceManager.events) through this extension’s events client and live stream.',
        autoStart: true,
        provides: IEventManager,
        optional: [IServerSettings],
        activate: (
          _: null,
          serverSettings: ServerConnection.ISettings | null
        ): Event.IManager => {
          const manager = new ServedEventManager({
            serverSettings: serverSettings ?? undefined
          });
          if (PageConfig.Extension.isDisabled(ATTACH_ID)) {
            // No client will come: JupyterLab's own path for every event.
            manager.attach(null);
          }
          return manager;
        }
      }
    : null;

/**
 * Gives the event manager the events client once it is made, or says there
 * is none (the client plugin is disabled, or failed to start).
 */
export const eventManagerClientPlugin: JupyterFrontEndPlugin<void> = {
  id: ATTACH_ID,
  description:
    'Gives JupyterLab’s event API, when this extension serves it, the events client.',
  autoStart: true,
  optional: [IEventsClient],
  activate: (app: JupyterFrontEnd, client: IEventsClient | null): void => {
    const manager = app.serviceManager.events;
    if (!(manager instanceof ServedEventManager)) {
      return;
    }
    manager.attach(client instanceof EventsClient ? client : null);
  }
};
