import type { ServerConnection } from '@jupyterlab/services';
import type { JSONObject, ReadonlyJSONObject } from '@lumino/coreutils';
import { Token } from '@lumino/coreutils';
import type { IDisposable } from '@lumino/disposable';
import type { ISignal, IStream } from '@lumino/signaling';

// Every token of this package, with the interface it stands for.

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
   * A signal emitted when the page goes away (`pagehide`), before the client
   * stores and posts what waits: code that holds events back (to complete
   * them, say) emits them now, synchronously, or loses them with the page.
   */
  readonly leaving: ISignal<IEventsClient, void>;

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
   * @returns a promise that resolves when the queue is empty (the server has
   *   every event, and the stored queue no longer holds them), and rejects
   *   when the server cannot be reached (the events stay queued)
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
     * Whether it is one of jupyter_server's own schemas, whose events the
     * server forwards into its stream; absent from servers before this field.
     */
    readonly server?: boolean;
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
     * The events other extensions emitted through JupyterLab's own event
     * API (`app.serviceManager.events`, the `IEventManager` this extension
     * provides): queued here, or posted to jupyter_server's `/api/events` as
     * JupyterLab's manager does, for the schemas clients may not post here.
     * Those queued are counted in the other figures too, as every event is.
     */
    readonly eventManager: IEventManagerCounts;
    /**
     * How the last batch was sent: on the events socket, by `POST` (the
     * socket could not open, or failed before its first answer), or `null`
     * before the first.
     */
    readonly transport: Transport | null;
  }

  /**
   * The events JupyterLab's event API emitted, by the path they took.
   */
  export interface IEventManagerCounts {
    /**
     * Queued in this client (a schema this server lets clients post).
     */
    readonly queued: number;
    /**
     * Posted to jupyter_server's `/api/events`, and taken by it.
     */
    readonly posted: number;
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

/**
 * What this browser records and how it delivers: the "Events" settings, read
 * once with the operator's locks applied, and the user's consent. Every
 * surface (capture, the client, the Event Viewer, the status bar, the consent
 * notifications) reads it; nothing else reads the setting registry.
 */
export const IEventsSettings = new Token<IEventsSettings>(
  'jupyter-events-ext:IEventsSettings',
  'What this browser records now (the Events settings with the operator’s locks, and the user’s consent) and how it delivers events.'
);

/**
 * The settings model.
 */
export interface IEventsSettings {
  /**
   * The settings in force, locks applied, frozen; `null` until they are read
   * (or when they cannot be): nothing is recorded meanwhile.
   */
  readonly config: IEventsSettings.IConfig | null;
  /**
   * What this browser records now, the consent taken into account; `null`
   * while the settings are unknown.
   */
  readonly recording: IEventsSettings.IRecording | null;
  /**
   * Whether UI actions of this kind are recorded now.
   */
  isRecorded(kind: IEventsSettings.Kind): boolean;
  /**
   * A signal emitted when `config` or `recording` changes.
   */
  readonly changed: ISignal<IEventsSettings, void>;
  /**
   * Resolves once the settings are read, or found unreadable.
   */
  readonly ready: Promise<void>;
  /**
   * Take this consent into account (the consent plugin gives it as it
   * starts). Without one, the `opt-in` mode records nothing: no one is there
   * to ask. Disposing of the returned object withdraws it.
   */
  useConsent(consent: IEventsConsent): IDisposable;
  /**
   * Take the server's path policy into account (`GET info`'s `path_mode`):
   * paths are never recorded less protected than it says, and not at all
   * until it is known. `null` (a server that has none, or cannot say) leaves
   * the `pathMode` setting in force.
   *
   * @returns a promise that resolves once `recording` says the server's
   *   answer
   */
  useServerPathMode(
    mode: Promise<IEventsSettings.PathMode | null>
  ): Promise<void>;
}

/**
 * The types of the settings model.
 */
export namespace IEventsSettings {
  /**
   * A kind of UI action, each switched on or off by the setting of its name.
   */
  export type Kind =
    | 'commands'
    | 'documents'
    | 'cellExecution'
    | 'kernels'
    | 'activeDocument'
    | 'cellEdits'
    | 'notebookStructure'
    | 'attention'
    | 'cellOutputs'
    | 'clipboard'
    | 'snapshots';

  /**
   * How paths are recorded: as they are, hashed with the deployment's key, or
   * left out.
   */
  export type PathMode = 'as-is' | 'hashed' | 'omitted';

  /**
   * What the capture records: the settings of the same names (see
   * `schema/plugin.json`), but `enabled`, whose setting is `capture`.
   */
  export interface ICapture extends Record<Kind, boolean> {
    enabled: boolean;
    commandAllow: string[];
    commandDeny: string[];
    commandArgs: string[];
    pathMode: PathMode;
    cellEditText: boolean;
    cellEditTextMax: number;
    cellEditIdleMs: number;
    attentionSampleSeconds: number;
    outputTracebacks: boolean;
    outputTracebackMax: number;
    snapshotOutputs: boolean;
    snapshotMaxBytes: number;
    rateLimit: number;
    notebookOptOut: boolean;
  }

  /**
   * How waiting events are sent (the settings of the same names).
   */
  export interface IDelivery {
    readonly batchSize: number;
    readonly batchInterval: number;
    readonly queueBound: number;
  }

  /**
   * The settings in force.
   */
  export interface IConfig {
    readonly capture: Readonly<ICapture>;
    readonly delivery: IDelivery;
    /**
     * How users are told, or asked (the `consent` setting).
     */
    readonly consent: IEventsConsent.Mode;
    /**
     * The settings the operator locked (`overrides.json`).
     */
    readonly locked: ReadonlyArray<string>;
  }

  /**
   * What this browser records now. Each kind says whether its setting is on;
   * it is recorded only while `capture` is true too.
   */
  export interface IRecording extends Readonly<Record<Kind, boolean>> {
    /**
     * Whether UI actions are recorded now: the `capture` setting is on and,
     * in the `opt-in` mode, the user agreed.
     */
    readonly capture: boolean;
    /**
     * Why they are not, `null` while they are: the `capture` setting is
     * `off`; `no-consent`: the `opt-in` mode, and the user has not agreed
     * (or no consent plugin asks); the user `declined`.
     */
    readonly reason: 'off' | 'no-consent' | 'declined' | null;
    /**
     * The consent mode in force.
     */
    readonly consent: IEventsConsent.Mode;
    /**
     * How paths are recorded now: the `pathMode` setting, or the server's
     * policy where that is more protected.
     */
    readonly pathMode: PathMode;
    /**
     * The server's path policy, the least protected `pathMode` may be
     * (`omitted` until the server has said); `null` when it has none.
     */
    readonly serverPathMode: PathMode | null;
    /**
     * The settings the operator locked.
     */
    readonly locked: ReadonlyArray<string>;
  }
}

/**
 * Whether the user was told about, or agreed to, the capture of their UI
 * actions, as the `consent` setting asks.
 */
export const IEventsConsent = new Token<IEventsConsent>(
  'jupyter-events-ext:IEventsConsent',
  'Whether the user was told about, or agreed to, the recording of their UI actions (the "consent" setting: notice, opt-in or none).'
);

/**
 * The user's consent to the capture of their UI actions.
 */
export interface IEventsConsent {
  /**
   * The consent mode in force (the `consent` setting).
   */
  readonly mode: IEventsConsent.Mode;
  /**
   * The user's decision, remembered across reloads; `null` before any.
   */
  readonly decision: IEventsConsent.Decision | null;
  /**
   * Whether the consent lets UI actions be captured: always but in the
   * `opt-in` mode, and there only once the user agreed. Whether they are
   * captured is `IEventsSettings.recording`.
   */
  readonly allowsCapture: boolean;
  /**
   * A signal emitted when the mode, the decision or `allowsCapture` changes.
   */
  readonly changed: ISignal<IEventsConsent, void>;
  /**
   * Resolves once the remembered decision is read; `allowsCapture` is
   * `false` in the `opt-in` mode until then.
   */
  readonly ready: Promise<void>;
}

export namespace IEventsConsent {
  /**
   * - `notice`: a notification on first run says what is recorded and where
   * - `opt-in`: nothing is captured until the user agrees
   * - `none`: nothing is said
   */
  export type Mode = 'notice' | 'opt-in' | 'none';

  export type Decision = 'agreed' | 'declined';
}
