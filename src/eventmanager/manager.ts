import { URLExt } from '@jupyterlab/coreutils';
import { type Event, ServerConnection } from '@jupyterlab/services';
import { PromiseDelegate } from '@lumino/coreutils';

import type { EventsClient } from '../client/client';
import type { IEventsClient } from '../tokens';
import { ServerEmissions } from './emissions';

/**
 * JupyterLab's event manager (`IEventManager`, `app.serviceManager.events`),
 * served by this extension, so that extensions written against JupyterLab's
 * own API get this client's delivery without a line changed.
 *
 * `emit` routes each event by its schema: one this server lets clients post
 * goes through the events client (validated in the browser, queued durably,
 * batched, sent exactly once); any other goes to jupyter_server's
 * `/api/events` as JupyterLab's own manager sends it. `stream` delivers what
 * JupyterLab's own stream delivers (jupyter_server's events) from this
 * extension's live stream (`ServerEmissions`), opened when `stream` is first
 * read.
 *
 * The service manager is made before the application's plugins start: the
 * events client comes later (`attach`). Events emitted meanwhile wait, in
 * order, and go as soon as it comes; without a client (`attach(null)`: the
 * client plugin is disabled or failed), every event takes JupyterLab's own
 * path.
 */
export class ServedEventManager implements Event.IManager {
  constructor(options: ServedEventManager.IOptions = {}) {
    this.serverSettings =
      options.serverSettings ?? ServerConnection.makeSettings();
    this._emissions = new ServerEmissions({
      serverSettings: this.serverSettings,
      sender: this,
      reconnectInterval: options.reconnectInterval
    });
  }

  readonly serverSettings: ServerConnection.ISettings;

  /**
   * jupyter_server's events, each as `{ schema_id, ...data }`, as JupyterLab's
   * own manager streams them. Reading it opens the live stream.
   */
  get stream(): Event.Stream {
    return this._emissions.stream;
  }

  /**
   * The live stream `stream` comes from: whether it is open, what it missed
   * while closed, whether the server restarted.
   */
  get subscription(): IEventsClient.ISubscription {
    return this._emissions.subscription;
  }

  get isDisposed(): boolean {
    return this._emissions.isDisposed;
  }

  /**
   * Give the manager the events client (once), or `null` when there is none:
   * the events emitted so far go now, in the order they were emitted.
   */
  attach(client: ServedEventManager.IClient | null): void {
    if (this._client !== undefined) {
      throw new Error('The event manager has its client already.');
    }
    this._client = client;
    for (const waiting of this._waiting.splice(0)) {
      this._route(waiting.event, waiting.done);
    }
  }

  /**
   * Emit an event.
   *
   * @returns a promise that resolves once the event is queued in the events
   *   client (stored in IndexedDB, or in this page's memory when the browser
   *   cannot store it: `IEventsClient.emit`), or, for a schema clients may
   *   not post here, once jupyter_server's `/api/events` has taken it. It
   *   rejects when the event is invalid (`EventValidationError`, checked in
   *   the browser; once the schema list is known), or, on the second path,
   *   with the `ServerConnection.ResponseError` of any answer but 204, as
   *   JupyterLab's own manager does.
   */
  emit(event: Event.Request): Promise<void> {
    if (this.isDisposed) {
      return Promise.reject(new Error('The event manager is disposed.'));
    }
    const done = new PromiseDelegate<void>();
    if (this._client === undefined) {
      this._waiting.push({ event, done });
    } else {
      this._route(event, done);
    }
    return done.promise;
  }

  dispose(): void {
    this._emissions.dispose();
    for (const waiting of this._waiting.splice(0)) {
      waiting.done.reject(new Error('The event manager is disposed.'));
    }
  }

  /**
   * Send the event on its path, after those emitted before it have taken
   * theirs (a schema list still coming delays the choice, not the order).
   */
  private _route(event: Event.Request, done: PromiseDelegate<void>): void {
    this._routing = this._routing.then(async () => {
      const client = this._client ?? null;
      const queued =
        client !== null &&
        typeof event.schema_id === 'string' &&
        (await Private.isPostable(client, event.schema_id));
      if (client && queued) {
        client.emit(event.schema_id, event.data ?? {}, event.version).then(
          () => {
            client.countEventManager('queued');
            done.resolve();
          },
          reason => done.reject(reason)
        );
      } else {
        Private.post(event, this.serverSettings).then(
          () => {
            client?.countEventManager('posted');
            done.resolve();
          },
          reason => done.reject(reason)
        );
      }
    });
  }

  private _client: ServedEventManager.IClient | null | undefined = undefined;
  private _emissions: ServerEmissions;
  private _routing = Promise.resolve();
  private _waiting: { event: Event.Request; done: PromiseDelegate<void> }[] =
    [];
}

export namespace ServedEventManager {
  export interface IOptions {
    /**
     * The server settings; JupyterLab's defaults when omitted.
     */
    serverSettings?: ServerConnection.ISettings;
    /**
     * Milliseconds between the live stream's reconnection attempts.
     */
    reconnectInterval?: number;
  }

  /**
   * What the manager needs of the events client.
   */
  export type IClient = Pick<
    EventsClient,
    'emit' | 'isPostable' | 'listSchemas' | 'countEventManager'
  >;
}

namespace Private {
  /**
   * Whether the server lets clients post the schema. Before any list is
   * known, the list is waited for; when it cannot be had (a first visit
   * while the server is away), the event is queued, and validated once the
   * list arrives: queued, it is kept; posted, it would be lost.
   */
  export async function isPostable(
    client: ServedEventManager.IClient,
    schemaId: string
  ): Promise<boolean> {
    const postable = client.isPostable(schemaId);
    if (postable !== null) {
      return postable;
    }
    await client.listSchemas().catch(() => undefined);
    return client.isPostable(schemaId) ?? true;
  }

  /**
   * Post the event to jupyter_server's `/api/events`, as JupyterLab's own
   * event manager does.
   */
  export async function post(
    event: Event.Request,
    settings: ServerConnection.ISettings
  ): Promise<void> {
    const url = URLExt.join(settings.baseUrl, 'api/events');
    const init = { body: JSON.stringify(event), method: 'POST' };
    const response = await ServerConnection.makeRequest(url, init, settings);
    if (response.status !== 204) {
      throw new ServerConnection.ResponseError(response);
    }
  }
}
