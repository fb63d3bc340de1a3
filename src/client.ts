import { ServerConnection } from '@jupyterlab/services';
import type { JSONObject, ReadonlyJSONObject } from '@lumino/coreutils';
import { type IPoll, Poll } from '@lumino/polling';
import { type ISignal, Signal } from '@lumino/signaling';

import { EventQueue } from './queue';
import { requestAPI } from './request';
import { EventStream } from './stream';
import type { IEventsClient } from './tokens';
import { SchemaValidator } from './validator';

/**
 * The events client: validates events against the server's schemas, keeps
 * them in a durable queue and posts them in batches, retrying with backoff
 * until the server has them.
 *
 * Every event gets a client id when it is emitted, so that the server records
 * a retried event once, and the time it was emitted, so that an event sent
 * late keeps the time it happened.
 */
export class EventsClient implements IEventsClient {
  /**
   * Create a client and start delivering what earlier pages left queued.
   */
  constructor(options: EventsClient.IOptions = {}) {
    this.serverSettings =
      options.serverSettings ?? ServerConnection.makeSettings();
    this._batchSize = Private.positive(
      options.batchSize,
      EventsClient.DEFAULT_BATCH_SIZE
    );
    this._limit = this._batchSize;
    this._storage =
      options.storage === undefined
        ? typeof localStorage === 'undefined'
          ? null
          : localStorage
        : options.storage;
    this._queue = new EventQueue({
      name: `jupyter-events-ext ${this.serverSettings.baseUrl}`,
      bound: options.queueBound,
      indexedDB: options.indexedDB
    });
    this._delivery = new Poll({
      auto: false,
      factory: state => this._deliver(state),
      frequency: {
        interval: Private.positive(
          options.batchInterval,
          EventsClient.DEFAULT_BATCH_INTERVAL
        ),
        backoff: true,
        max: options.maxRetryInterval ?? EventsClient.DEFAULT_MAX_RETRY_INTERVAL
      },
      name: 'jupyter-events-ext:delivery',
      // Tick only while events wait; `never` also keeps delivering in hidden tabs.
      standby: () => this._queue.size === 0 || 'never'
    });

    this._restoreSchemas();
    void this.listSchemas().catch(() => undefined);
    void this._queue.ready.then(() => {
      if (!this.isDisposed) {
        this._changed();
        void this._delivery.start();
      }
    });

    if (typeof window !== 'undefined') {
      window.addEventListener('pagehide', this._onPageHide);
      document.addEventListener('visibilitychange', this._onVisibilityChange);
    }
  }

  /**
   * The default number of events posted in one request.
   */
  static readonly DEFAULT_BATCH_SIZE = 200;

  /**
   * The default milliseconds an event waits for others to join its batch.
   */
  static readonly DEFAULT_BATCH_INTERVAL = 1000;

  /**
   * The default longest wait between retries, in milliseconds.
   */
  static readonly DEFAULT_MAX_RETRY_INTERVAL = 15 * 1000;

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
    return {
      connected: this._connected,
      waiting: this._queue.size,
      dropped: this._queue.dropped,
      rejected: this._rejected
    };
  }

  /**
   * A signal emitted when the delivery state changes.
   */
  get stateChanged(): ISignal<this, IEventsClient.IState> {
    return this._stateChanged;
  }

  /**
   * Change the batching and the queue bound; applies at once.
   */
  configure(config: Partial<EventsClient.IConfig>): void {
    if (config.batchSize !== undefined) {
      this._batchSize = this._limit = Private.positive(
        config.batchSize,
        this._batchSize
      );
    }
    const interval = Private.positive(
      config.batchInterval,
      this._delivery.frequency.interval
    );
    if (interval !== this._delivery.frequency.interval) {
      this._delivery.frequency = { ...this._delivery.frequency, interval };
      // The tick already scheduled would keep the old interval.
      const { phase } = this._delivery.state;
      if (phase !== 'constructed' && phase !== 'rejected') {
        void this._delivery.schedule({ interval, phase: 'standby' });
      }
    }
    if (config.queueBound !== undefined) {
      this._queue.bound = config.queueBound;
    }
    this._changed();
    this._sendFullBatches();
  }

  /**
   * Validate an event and queue it for delivery.
   */
  emit(
    schemaId: string,
    data: ReadonlyJSONObject,
    version?: number | string
  ): Promise<void> {
    if (this.isDisposed) {
      return Promise.reject(new Error('The events client is disposed.'));
    }
    const timestamp = new Date().toISOString();
    if (!this._validator.find(schemaId, version)) {
      return this._emitOnceKnown(schemaId, data, version, timestamp);
    }
    let schema: IEventsClient.ISchema;
    try {
      schema = this._validator.validate(schemaId, data, version);
    } catch (error) {
      return Promise.reject(error);
    }
    return this._enqueue(schema, data, timestamp);
  }

  /**
   * Send every waiting event now.
   */
  async flush(): Promise<void> {
    await this._queue.ready;
    await this._send(true);
  }

  /**
   * The schemas the server has registered.
   */
  listSchemas(
    options: { refresh?: boolean } = {}
  ): Promise<ReadonlyArray<IEventsClient.ISchema>> {
    if (options.refresh || !this._schemas) {
      this._schemas = this._fetchSchemas();
    }
    return this._schemas;
  }

  /**
   * Follow the server's live event stream.
   */
  subscribe(
    options: IEventsClient.ISubscribeOptions = {}
  ): IEventsClient.ISubscription {
    const subscription = new EventStream({
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
    this._queue.dispose();
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
   * Emit once the schema is known: at start-up, before the list has arrived,
   * or for a schema registered since it was fetched.
   */
  private async _emitOnceKnown(
    schemaId: string,
    data: ReadonlyJSONObject,
    version: number | string | undefined,
    timestamp: string
  ): Promise<void> {
    if (!this._fetched) {
      await this._whenSchemas();
    } else if (Date.now() - this._fetchedAt > Private.REFRESH_UNKNOWN) {
      await this.listSchemas({ refresh: true }).catch(() => undefined);
    }
    if (this.isDisposed) {
      throw new Error('The events client is disposed.');
    }
    const schema = this._validator.validate(schemaId, data, version);
    return this._enqueue(schema, data, timestamp);
  }

  private _enqueue(
    schema: IEventsClient.ISchema,
    data: ReadonlyJSONObject,
    timestamp: string
  ): Promise<void> {
    const stored = this._queue.push({
      id: Private.uuid(),
      schema_id: schema.id,
      version: schema.version,
      data: data as JSONObject,
      timestamp
    });
    this._changed();
    this._sendFullBatches();
    return stored;
  }

  /**
   * Tick the delivery now when a full batch waits (not while backing off).
   */
  private _sendFullBatches(): void {
    if (
      !this._refreshing &&
      this._queue.size >= this._limit &&
      this._delivery.state.phase !== 'rejected'
    ) {
      this._refreshing = true;
      void this._delivery.refresh();
    }
  }

  /**
   * One delivery tick: everything when the interval (or a retry) brought it,
   * full batches only when it was asked for by a full batch or at start-up.
   */
  private _deliver(state: IPoll.State<any, any, any>): Promise<void> {
    this._refreshing = false;
    return this._send(state.phase !== 'refreshed' && state.phase !== 'started');
  }

  /**
   * Post batches, one request at a time.
   */
  private _send(everything: boolean): Promise<void> {
    const previous = this._sending ?? Promise.resolve();
    const sending = previous
      .catch(() => undefined)
      .then(async () => {
        while (!this.isDisposed) {
          const size = this._queue.size;
          if (size === 0 || (!everything && size < this._limit)) {
            return;
          }
          await this._post(this._queue.peek(this._limit));
        }
      });
    this._sending = sending;
    void sending
      .catch(() => undefined)
      .then(() => {
        if (this._sending === sending) {
          this._sending = null;
        }
      });
    return sending;
  }

  private async _post(batch: IEventsClient.IRecord[]): Promise<void> {
    let reply: Private.IBatchReply | undefined;
    try {
      reply = await requestAPI<Private.IBatchReply>(
        'events',
        { method: 'POST', body: JSON.stringify({ events: batch }) },
        this.serverSettings
      );
    } catch (error) {
      if (error instanceof ServerConnection.ResponseError) {
        const status = error.response.status;
        this._setConnected(status < 500);
        if (status === 400 || status === 413) {
          if (batch.length > 1) {
            // A limit of the server's: try again at once with smaller batches.
            this._limit = Math.max(1, Math.floor(batch.length / 2));
            return;
          }
          this._refuse(batch, [{ index: 0, message: error.message }]);
          return;
        }
      } else {
        this._setConnected(false);
      }
      throw error;
    }
    this._setConnected(true);
    this._refuse(batch, reply?.rejected ?? []);
    void this._queue.remove(batch.map(record => record.id));
    this._changed();
  }

  /**
   * Drop the events the server refused: sending them again cannot succeed.
   */
  private _refuse(
    batch: IEventsClient.IRecord[],
    rejected: ReadonlyArray<{ index: number; message: string }>
  ): void {
    for (const { index, message } of rejected) {
      const record = batch[index];
      console.warn(
        `jupyter-events-ext: the server refused a "${record?.schema_id}" event: ${message}`
      );
    }
    if (rejected.length) {
      this._rejected += rejected.length;
      void this._queue.remove(rejected.map(({ index }) => batch[index]?.id));
      this._changed();
    }
  }

  private _fetchSchemas(): Promise<ReadonlyArray<IEventsClient.ISchema>> {
    const fetching = requestAPI<{ schemas: IEventsClient.ISchema[] }>(
      'schemas',
      {},
      this.serverSettings
    ).then(
      ({ schemas }) => {
        this._validator.update(schemas);
        this._fetched = true;
        this._fetchedAt = Date.now();
        this._setConnected(true);
        this._storeSchemas(schemas);
        return schemas;
      },
      reason => {
        this._setConnected(false);
        if (this._schemas === fetching) {
          this._schemas = null;
        }
        throw reason;
      }
    );
    return fetching;
  }

  /**
   * Wait for the schema list, retrying with backoff.
   */
  private _whenSchemas(): Promise<void> {
    if (!this._waitingForSchemas) {
      this._waitingForSchemas = (async () => {
        let delay = 500;
        while (!this._fetched && !this.isDisposed) {
          try {
            await this.listSchemas();
          } catch {
            await new Promise(resolve => setTimeout(resolve, delay));
            delay = Math.min(delay * 2, this._delivery.frequency.max);
          }
        }
      })();
    }
    return this._waitingForSchemas;
  }

  /**
   * Use the schema list of an earlier page until the server answers, so that
   * events can be validated and queued while it is away.
   */
  private _restoreSchemas(): void {
    try {
      const cached = this._storage?.getItem(this._storageKey);
      if (cached) {
        this._validator.update(JSON.parse(cached));
        this._fetched = true;
      }
    } catch {
      // A corrupt or inaccessible cache is only a missed shortcut.
    }
  }

  private _storeSchemas(schemas: ReadonlyArray<IEventsClient.ISchema>): void {
    try {
      this._storage?.setItem(
        this._storageKey,
        JSON.stringify(schemas.filter(schema => schema.client))
      );
    } catch {
      // Storage full or forbidden: the next page fetches the list again.
    }
  }

  private get _storageKey(): string {
    return `jupyter-events-ext:schemas ${this.serverSettings.baseUrl}`;
  }

  private _setConnected(connected: boolean): void {
    if (this._connected !== connected) {
      this._connected = connected;
      this._changed();
    }
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
   * Leaving the page: post what waits with `keepalive`, which outlives the page.
   * The events stay stored; the server ignores those it already has when the
   * next page sends them again.
   */
  private _onPageHide = (): void => {
    void this._queue.persist();
    let budget = Private.KEEPALIVE_BUDGET;
    const records = this._queue.peek(this._queue.size);
    const encoder = new TextEncoder();
    for (let start = 0; start < records.length; start += this._limit) {
      const body = JSON.stringify({
        events: records.slice(start, start + this._limit)
      });
      budget -= encoder.encode(body).length;
      if (budget < 0) {
        break;
      }
      void requestAPI(
        'events',
        { method: 'POST', body, keepalive: true },
        this.serverSettings
      ).catch(() => undefined);
    }
  };

  private _onVisibilityChange = (): void => {
    if (document.visibilityState === 'hidden' && this._queue.size > 0) {
      void this._queue.persist();
      void this.flush().catch(() => undefined);
    }
  };

  private _batchSize: number;
  private _connected = false;
  private _delivery: Poll;
  private _fetched = false;
  private _fetchedAt = 0;
  private _limit: number;
  private _queue: EventQueue;
  private _refreshing = false;
  private _rejected = 0;
  private _schemas: Promise<ReadonlyArray<IEventsClient.ISchema>> | null = null;
  private _sending: Promise<void> | null = null;
  private _statePending = false;
  private _stateChanged = new Signal<this, IEventsClient.IState>(this);
  private _storage: Storage | null;
  private _subscriptions = new Set<EventStream>();
  private _validator = new SchemaValidator();
  private _waitingForSchemas: Promise<void> | null = null;
}

/**
 * The statics of the events client.
 */
export namespace EventsClient {
  /**
   * What the settings change at run time.
   */
  export interface IConfig {
    /**
     * How many events one request posts at most; a full batch is sent at once.
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
  }
}

namespace Private {
  /**
   * The reply to a batch.
   */
  export interface IBatchReply {
    accepted: number;
    duplicates: number;
    rejected: { index: number; message: string }[];
  }

  /**
   * Browsers allow 64 KiB of `keepalive` bodies in flight per page.
   */
  export const KEEPALIVE_BUDGET = 60 * 1024;

  /**
   * How often an unknown schema id may make the client fetch the list again.
   */
  export const REFRESH_UNKNOWN = 10 * 1000;

  /**
   * Milliseconds over which state changes are gathered into one signal.
   */
  export const STATE_DELAY = 100;

  export function positive(value: number | undefined, fallback: number) {
    return value !== undefined && Number.isFinite(value) && value >= 1
      ? Math.floor(value)
      : fallback;
  }

  /**
   * A random (version 4) UUID; `crypto.randomUUID` needs a secure context,
   * `getRandomValues` does not.
   */
  export function uuid(): string {
    if (typeof crypto.randomUUID === 'function') {
      return crypto.randomUUID();
    }
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, byte => byte.toString(16).padStart(2, '0'));
    return [
      hex.slice(0, 4).join(''),
      hex.slice(4, 6).join(''),
      hex.slice(6, 8).join(''),
      hex.slice(8, 10).join(''),
      hex.slice(10, 16).join('')
    ].join('-');
  }
}
