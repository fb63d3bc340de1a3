import type { ServerConnection } from '@jupyterlab/services';
import type { JSONObject, ReadonlyJSONObject } from '@lumino/coreutils';
import { Token } from '@lumino/coreutils';
import type { IDisposable } from '@lumino/disposable';
import type { ISignal, IStream } from '@lumino/signaling';

/**
 * The events client: emits validated events to the jupyter_events_ext server
 * extension, lists its schemas and follows its live stream.
 *
 * Require it in a plugin to record your extension's own events:
 *
 * ```ts
 * activate: (app, events: IEventsClient) => {
 *   void events.emit('https://example.org/my-extension/click/v1', { button: 'run' });
 * }
 * ```
 */
export const IEventsClient = new Token<IEventsClient>(
  'jupyter-events-ext:IEventsClient',
  'Emits validated events (batched, kept in IndexedDB until the server has them), lists the server’s event schemas and subscribes to its live event stream.'
);

/**
 * The events client.
 */
export interface IEventsClient extends IDisposable {
  /**
   * The server settings the client talks to.
   */
  readonly serverSettings: ServerConnection.ISettings;

  /**
   * The delivery state: whether the server answers, how many events wait.
   */
  readonly state: IEventsClient.IState;

  /**
   * A signal emitted when the delivery state changes (at most a few times a second).
   */
  readonly stateChanged: ISignal<IEventsClient, IEventsClient.IState>;

  /**
   * Validate an event and queue it for delivery.
   *
   * Until the schema list has arrived (a first visit, a slow server), events
   * are queued at once, counted in `state.waiting`, and validated once the
   * list arrives, before they are sent: one found invalid then is counted in
   * `state.rejected` rather than rejected here.
   *
   * @param schemaId - the `$id` of a schema the server lists as `client: true`
   * @param data - the event's fields, as the schema describes them
   * @param version - the schema version; the newest the server lists when omitted
   * @returns a promise that resolves once the event is queued: stored in
   *   IndexedDB (`durable: true`), or, when the browser cannot store it, kept
   *   in this page's memory only (`durable: false`); it rejects at once,
   *   sending nothing, when the event is invalid
   */
  emit(
    schemaId: string,
    data: ReadonlyJSONObject,
    version?: number | string
  ): Promise<IEventsClient.IEmitted>;

  /**
   * Send every waiting event now, whatever the batching settings say.
   *
   * @returns a promise that resolves when the queue is empty, and rejects when
   *   the server cannot be reached (the events stay queued)
   */
  flush(): Promise<void>;

  /**
   * The schemas the server has registered, every version of each.
   *
   * @param options.refresh - ask the server again rather than use the list
   *   already fetched
   */
  listSchemas(options?: {
    refresh?: boolean;
  }): Promise<ReadonlyArray<IEventsClient.ISchema>>;

  /**
   * Follow the server's live event stream.
   *
   * The subscription reconnects by itself and resumes after the last event it
   * received; dispose of it to close the socket.
   */
  subscribe(
    options?: IEventsClient.ISubscribeOptions
  ): IEventsClient.ISubscription;
}

/**
 * The types of the events client.
 */
export namespace IEventsClient {
  /**
   * A schema as `GET jupyter-events-ext/schemas` lists it.
   */
  export interface ISchema {
    /**
     * The schema's `$id`.
     */
    readonly id: string;
    /**
     * The schema's version.
     */
    readonly version: number | string;
    /**
     * Whether a browser may post events of this schema.
     */
    readonly client: boolean;
    /**
     * The JSON Schema itself.
     */
    readonly schema: ReadonlyJSONObject;
  }

  /**
   * What `emit` resolves with.
   */
  export interface IEmitted {
    /**
     * The event's client id, which the server records as `__id__`.
     */
    readonly id: string;
    /**
     * Whether the event is stored in IndexedDB (it then survives a reload, a
     * crash or the server's absence), rather than in this page's memory only.
     */
    readonly durable: boolean;
  }

  /**
   * Why the server does not take events (or the stream is closed):
   * - `not-authorized`: 401 or 403, the user may not record events
   * - `not-installed`: 404, the jupyter_events_ext server extension is not installed
   * - `server-error`: 5xx (or 429, or a reply that does not account for every
   *   event), retried with backoff
   * - `unreachable`: the server cannot be reached, retried with backoff
   */
  export type ReasonKind =
    'not-authorized' | 'not-installed' | 'server-error' | 'unreachable';

  /**
   * The reason the server does not take events, for a program and a person.
   */
  export interface IReason {
    readonly kind: ReasonKind;
    /**
     * The HTTP status, `null` when there was no answer.
     */
    readonly status: number | null;
    /**
     * One sentence for a person.
     */
    readonly message: string;
  }

  /**
   * The delivery state of the client.
   */
  export interface IState {
    /**
     * Whether the last request to the server succeeded (`reason` is `null`).
     */
    readonly connected: boolean;
    /**
     * Why the last request failed; `null` once one succeeds. Waiting events
     * are kept whatever the reason, and sent once the server takes them.
     */
    readonly reason: IReason | null;
    /**
     * Whether the waiting events are stored in IndexedDB; `false` while they
     * are in this page's memory only (no IndexedDB, or writes failing).
     */
    readonly durable: boolean;
    /**
     * How many events wait in the queue to be sent.
     */
    readonly waiting: number;
    /**
     * How many events were dropped, oldest first, because the queue (or the
     * browser's storage) was full.
     */
    readonly dropped: number;
    /**
     * How many events the server refused (they are not retried).
     */
    readonly rejected: number;
    /**
     * How the last batch was sent: on the events socket, by `POST` (the
     * socket could not open, or failed before its first answer), or `null`
     * before the first.
     */
    readonly transport: Transport | null;
  }

  /**
   * A way batches reach the server.
   */
  export type Transport = 'socket' | 'post';

  /**
   * An event as the server records and streams it.
   */
  export interface IEnvelope extends ReadonlyJSONObject {
    readonly __timestamp__: string;
    readonly __schema__: string;
    readonly __schema_version__: number | string;
    readonly __metadata_version__: number;
  }

  /**
   * One message of the live stream.
   */
  export interface IStreamMessage {
    /**
     * The event's position in the server's stream.
     */
    readonly seq: number;
    /**
     * The event.
     */
    readonly event: IEnvelope;
  }

  /**
   * Options of a subscription to the live stream.
   */
  export interface ISubscribeOptions {
    /**
     * The schema ids to receive; every schema when empty or omitted.
     */
    schemaIds?: ReadonlyArray<string>;
    /**
     * Start after this sequence number (replayed from the server's buffer).
     */
    after?: number;
  }

  /**
   * A subscription to the live stream.
   */
  export interface ISubscription extends IDisposable {
    /**
     * Whether the socket is open.
     */
    readonly connected: boolean;
    /**
     * A signal emitted when the socket opens or closes, and when the reason
     * it is closed becomes known.
     */
    readonly connectionChanged: ISignal<ISubscription, boolean>;
    /**
     * Why the socket cannot open, when the server says (`not-authorized`,
     * `not-installed`, `unreachable`); `null` while it is open or the
     * reason is unknown.
     */
    readonly reason: IReason | null;
    /**
     * The sequence number of the last event received, if any: a position in
     * the server run `runId`.
     */
    readonly lastSeq: number | null;
    /**
     * The id of the server run the stream is connected to (new on every
     * server start), once the server has said; `null` for servers that do
     * not say.
     */
    readonly runId: string | null;
    /**
     * A signal emitted, on resuming, with how many events the server no longer
     * buffered: they will never arrive on this subscription.
     */
    readonly missed: ISignal<ISubscription, number>;
    /**
     * A signal emitted, on resuming, when the server restarted since the last
     * event received: events it recorded in its previous run after that one
     * may never arrive. It carries how many events of the new run were no
     * longer buffered (also signalled by `missed`); every one still buffered
     * is replayed.
     */
    readonly restarted: ISignal<ISubscription, number>;
    /**
     * The events, as a signal and an async iterator.
     */
    readonly stream: IStream<ISubscription, IStreamMessage>;
  }

  /**
   * An event as it is queued and posted.
   */
  export interface IRecord {
    /**
     * The client-generated id that makes delivery idempotent.
     */
    readonly id: string;
    readonly schema_id: string;
    readonly version: number | string;
    readonly data: JSONObject;
    /**
     * When the event happened (RFC 3339, UTC).
     */
    readonly timestamp: string;
  }
}

/**
 * What the automatic capture dropped because a kind went over its rate limit
 * (the `rateLimit` setting), per kind; the Event Viewer shows it.
 */
export const ICaptureDrops = new Token<ICaptureDrops>(
  'jupyter-events-ext:ICaptureDrops',
  'The events the automatic capture dropped, per kind, because the kind went over its rate limit.'
);

/**
 * Events dropped by the automatic capture, per kind.
 */
export interface ICaptureDrops {
  /**
   * The count of events dropped so far, per capture kind.
   */
  readonly drops: Readonly<Partial<Record<string, number>>>;
  /**
   * Emitted with {@link drops} when they grow (at most once a second).
   */
  readonly dropsChanged: ISignal<
    unknown,
    Readonly<Partial<Record<string, number>>>
  >;
}
