import { ServerConnection } from '@jupyterlab/services';
import type { ReadonlyJSONObject } from '@lumino/coreutils';
import { type ISignal, Signal } from '@lumino/signaling';

import { StreamSubscription } from '../stream/subscription';
import type { IEventsClient } from '../tokens';
import { SchemaCatalog } from './catalog';
import { Delivery } from './delivery';
import { EventsIngest } from './ingest';
import { EventQueue } from './queue';
import { EventRecord } from './record';
import { TabLock } from './tabs';

/**
 * The events client: validates events against the server's schemas, keeps
 * them in a durable queue and sends them in batches (on the events socket,
 * or by POST: `EventsIngest`), retrying with backoff until the server has
 * them.
 *
 * Every event gets a client id when it is emitted, so that the server records
 * a retried event once, and the time it was emitted, so that an event sent
 * late keeps the time it happened.
 *
 * Tabs on one server share the queue's database: each tab sends the events
 * it emitted (and those of closed tabs it took over), and one tab at a time
 * has a batch in flight, so no event is sent by two tabs.
 */
export class EventsClient implements IEventsClient {
  /**
   * Create a client and start delivering what earlier pages left queued.
   */
  constructor(options: EventsClient.IOptions = {}) {
    this.serverSettings =
      options.serverSettings ?? ServerConnection.makeSettings();
    const requestTimeout = Private.positive(
      options.requestTimeout,
      Private.REQUEST_TIMEOUT
    );
    this._catalog = new SchemaCatalog({
      serverSettings: this.serverSettings,
      storage:
        options.storage === undefined
          ? typeof localStorage === 'undefined'
            ? null
            : localStorage
          : options.storage,
      requestTimeout,
      onFailure: reason => this._delivery.setReason(reason)
    });
    this._ingest = new EventsIngest({
      ...options.socket,
      serverSettings: this.serverSettings
    });
    const name = `jupyter-events-ext ${this.serverSettings.baseUrl}`;
    this._tab = new TabLock({ name, locks: options.locks });
    this._queue = new EventQueue({
      name,
      bound: options.queueBound,
      indexedDB: options.indexedDB,
      tab: this._tab,
      adoptInterval: options.adoptInterval
    });
    this._delivery = new Delivery({
      queue: this._queue,
      tab: this._tab,
      transport: this._ingest,
      catalog: this._catalog,
      batchSize: Private.positive(
        options.batchSize,
        EventsClient.DEFAULT_BATCH_SIZE
      ),
      batchInterval: Private.positive(
        options.batchInterval,
        EventsClient.DEFAULT_BATCH_INTERVAL
      ),
      maxRetryInterval:
        options.maxRetryInterval ?? EventsClient.DEFAULT_MAX_RETRY_INTERVAL,
      requestTimeout,
      onChange: () => this._changed()
    });
    this._queue.changed.connect(() => {
      this._changed();
      this._delivery.sendFullBatches();
    });
    // Events of a closed tab have waited already: sent now.
    this._queue.adopted.connect(() => this._delivery.sendAdopted());

    void this.listSchemas().catch(() => undefined);
    void this._queue.ready.then(() => {
      if (!this.isDisposed) {
        this._changed();
        this._delivery.start();
      }
    });

    if (typeof window !== 'undefined') {
      window.addEventListener('pagehide', this._onPageHide);
      document.addEventListener('visibilitychange', this._onVisibilityChange);
    }
  }

  /**
   * The server settings the client talks to.
   */
  readonly serverSettings: ServerConnection.ISettings;

  /**
   * Whether the client is disposed.
   */
  get isDisposed(): boolean {
    return this._delivery.isDisposed;
  }

  /**
   * The delivery state.
   */
  get state(): IEventsClient.IState {
    const reason = this._delivery.reason;
    return {
      connected: reason === null,
      reason,
      durable: this._queue.isDurable,
      waiting: this._queue.size,
      dropped: this._queue.dropped,
      rejected: this._delivery.rejected,
      eventManager: { ...this._eventManager },
      transport: this._ingest.transport
    };
  }

  /**
   * A signal emitted when the delivery state changes.
   */
  get stateChanged(): ISignal<this, IEventsClient.IState> {
    return this._stateChanged;
  }

  /**
   * A signal emitted when the page goes away, before what waits is stored
   * and posted.
   */
  get leaving(): ISignal<this, void> {
    return this._leaving;
  }

  /**
   * Change the batching and the queue bound; applies at once.
   */
  configure(config: Partial<EventsClient.IConfig>): void {
    this._delivery.configure({
      batchSize:
        config.batchSize === undefined
          ? undefined
          : Private.positive(config.batchSize, this._delivery.batchSize),
      batchInterval: Private.positive(
        config.batchInterval,
        this._delivery.batchInterval
      )
    });
    if (config.queueBound !== undefined) {
      this._queue.bound = config.queueBound;
    }
    this._changed();
  }

  /**
   * Validate an event and queue it for delivery.
   */
  emit(
    schemaId: string,
    data: ReadonlyJSONObject,
    version?: number | string
  ): Promise<IEventsClient.IEmitted> {
    if (this.isDisposed) {
      return Promise.reject(new Error('The events client is disposed.'));
    }
    const timestamp = new Date().toISOString();
    if (!this._catalog.find(schemaId, version)) {
      return this._emitUnknown(schemaId, data, version, timestamp);
    }
    let schema: IEventsClient.ISchema;
    try {
      schema = this._catalog.validate(schemaId, data, version);
    } catch (error) {
      return Promise.reject(error);
    }
    return this._enqueue(EventRecord.checked(schema, data, timestamp));
  }

  /**
   * Whether this server lets clients post events of this schema id, as the
   * schema list says (the one fetched, or kept from an earlier page); `null`
   * while no list is known.
   */
  isPostable(schemaId: string): boolean | null {
    return this._catalog.isPostable(schemaId);
  }

  /**
   * Count an event JupyterLab's event API emitted, by the path it took
   * (`state.eventManager`).
   */
  countEventManager(path: keyof IEventsClient.IEventManagerCounts): void {
    this._eventManager[path]++;
    this._changed();
  }

  /**
   * Send every waiting event now; resolves once the server has them and the
   * stored queue no longer holds them, so that a reload sends none again.
   */
  async flush(): Promise<void> {
    await this._queue.ready;
    await this._delivery.flush();
    await this._queue.persist();
  }

  /**
   * The schemas the server has registered.
   */
  listSchemas(
    options: { refresh?: boolean } = {}
  ): Promise<ReadonlyArray<IEventsClient.ISchema>> {
    return this._catalog.list(options);
  }

  /**
   * Follow the server's live event stream.
   */
  subscribe(
    options: IEventsClient.ISubscribeOptions = {}
  ): IEventsClient.ISubscription {
    const subscription = new StreamSubscription({
      ...options,
      serverSettings: this.serverSettings
    });
    for (const previous of this._subscriptions) {
      if (previous.isDisposed) {
        this._subscriptions.delete(previous);
      }
    }
    this._subscriptions.add(subscription);
    return subscription;
  }

  /**
   * Stop delivering and close the queue and every subscription. Waiting
   * events stay stored for the next page.
   */
  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._delivery.dispose();
    this._ingest.dispose();
    // The database closes before the lock goes: no write follows a takeover.
    this._queue.dispose();
    this._tab.dispose();
    for (const subscription of this._subscriptions) {
      subscription.dispose();
    }
    this._subscriptions.clear();
    if (typeof window !== 'undefined') {
      window.removeEventListener('pagehide', this._onPageHide);
      document.removeEventListener(
        'visibilitychange',
        this._onVisibilityChange
      );
    }
    Signal.clearData(this);
  }

  /**
   * Emit an event of a schema the list does not have. Before the list has
   * arrived, the event is queued as it is and validated once the list is
   * there, before it is sent: waiting for the list would keep `emit`
   * waiting, and the event in no queue, for as long as the server takes. A
   * schema registered since the list was fetched is looked for again before
   * the event is refused as unknown.
   */
  private async _emitUnknown(
    schemaId: string,
    data: ReadonlyJSONObject,
    version: number | string | undefined,
    timestamp: string
  ): Promise<IEventsClient.IEmitted> {
    const known = await this._catalog.lookAgain();
    if (this.isDisposed) {
      throw new Error('The events client is disposed.');
    }
    if (!known) {
      return this._enqueue(
        EventRecord.unchecked(schemaId, data, version, timestamp)
      );
    }
    const schema = this._catalog.validate(schemaId, data, version);
    return this._enqueue(EventRecord.checked(schema, data, timestamp));
  }

  private async _enqueue(
    record: IEventsClient.IRecord
  ): Promise<IEventsClient.IEmitted> {
    const stored = this._queue.push(record);
    this._changed();
    this._delivery.sendFullBatches();
    return { id: record.id, durable: await stored };
  }

  /**
   * Emit `stateChanged` once for all the changes of a short while.
   */
  private _changed(): void {
    if (this._statePending) {
      return;
    }
    this._statePending = true;
    setTimeout(() => {
      this._statePending = false;
      if (!this.isDisposed) {
        this._stateChanged.emit(this.state);
      }
    }, Private.STATE_DELAY);
  }

  /**
   * Leaving the page: what waits is written now, and handed to the
   * transport's last send.
   */
  private _onPageHide = (): void => {
    this._leaving.emit();
    void this._queue.persist();
    this._delivery.sendOnPageHide();
  };

  private _onVisibilityChange = (): void => {
    if (document.visibilityState === 'hidden' && this._queue.size > 0) {
      void this._queue.persist();
      void this.flush().catch(() => undefined);
    }
  };

  private _catalog: SchemaCatalog;
  private _delivery: Delivery;
  private _eventManager = { queued: 0, posted: 0 };
  private _ingest: EventsIngest;
  private _leaving = new Signal<this, void>(this);
  private _queue: EventQueue;
  private _statePending = false;
  private _stateChanged = new Signal<this, IEventsClient.IState>(this);
  private _subscriptions = new Set<StreamSubscription>();
  private _tab: TabLock;
}

/**
 * The statics of the events client.
 */
export namespace EventsClient {
  /**
   * The default number of events sent in one batch.
   */
  export const DEFAULT_BATCH_SIZE = 200;

  /**
   * The default milliseconds an event waits for others to join its batch.
   */
  export const DEFAULT_BATCH_INTERVAL = 1000;

  /**
   * The default longest wait between retries, in milliseconds.
   */
  export const DEFAULT_MAX_RETRY_INTERVAL = 15 * 1000;

  /**
   * What the settings change at run time.
   */
  export interface IConfig {
    /**
     * How many events one batch holds at most; a full batch is sent at once.
     */
    batchSize: number;
    /**
     * Milliseconds an event waits for others to join its batch.
     */
    batchInterval: number;
    /**
     * How many events wait at most; the oldest are dropped beyond it.
     */
    queueBound: number;
  }

  /**
   * The options of a client.
   */
  export interface IOptions extends Partial<IConfig> {
    /**
     * The server settings; JupyterLab's defaults when omitted.
     */
    serverSettings?: ServerConnection.ISettings;
    /**
     * The longest wait between retries, in milliseconds.
     */
    maxRetryInterval?: number;
    /**
     * The IndexedDB factory of the queue; the browser's by default, `null`
     * for a queue in memory only.
     */
    indexedDB?: IDBFactory | null;
    /**
     * Where the schema list is cached between pages; `localStorage` by
     * default, `null` for no cache.
     */
    storage?: Storage | null;
    /**
     * The Web Locks that let tabs share the queue; `navigator.locks` by
     * default, `null` for none (every tab then takes over the events of the
     * others when it opens: fine for one tab, not for several).
     */
    locks?: LockManager | null;
    /**
     * Milliseconds between looks for the events of tabs that closed (1000
     * by default).
     */
    adoptInterval?: number;
    /**
     * Milliseconds before a request, or a batch on the events socket, is
     * given up and retried (30 s by default).
     */
    requestTimeout?: number;
    /**
     * How long the events socket stays open with nothing to send, and how
     * long batches go by POST after it failed to open (`EventsIngest`'s
     * defaults when omitted).
     */
    socket?: Partial<EventsIngest.ITimings>;
  }
}

namespace Private {
  /**
   * Milliseconds before a request is given up (and retried), by default.
   */
  export const REQUEST_TIMEOUT = 30 * 1000;

  /**
   * Milliseconds over which state changes are gathered into one signal.
   */
  export const STATE_DELAY = 100;

  export function positive(value: number | undefined, fallback: number) {
    return value !== undefined && Number.isFinite(value) && value >= 1
      ? Math.floor(value)
      : fallback;
  }
}
