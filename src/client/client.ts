import { ServerConnection } from '@jupyterlab/services';
import type { JSONObject, ReadonlyJSONObject } from '@lumino/coreutils';
import { type IPoll, Poll } from '@lumino/polling';
import { type ISignal, Signal } from '@lumino/signaling';

import { EventsIngest } from './ingest';
import { EventQueue } from './queue';
import { reasonOf } from './reason';
import { requestAPI } from './request';
import { EventStream } from '../stream/subscription';
import { TabLock } from './tabs';
import type { IEventsClient } from '../tokens';
import { uuid } from './uuid';
import { SchemaValidator } from './validator';

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
    this._batchSize = Private.positive(
      options.batchSize,
      EventsClient.DEFAULT_BATCH_SIZE
    );
    this._limit = this._batchSize;
    this._requestTimeout = Private.positive(
      options.requestTimeout,
      Private.REQUEST_TIMEOUT
    );
    this._ingest = new EventsIngest({
      ...options.socket,
      serverSettings: this.serverSettings
    });
    this._storage =
      options.storage === undefined
        ? typeof localStorage === 'undefined'
          ? null
          : localStorage
        : options.storage;
    const name = `jupyter-events-ext ${this.serverSettings.baseUrl}`;
    this._tab = new TabLock({ name, locks: options.locks });
    this._queue = new EventQueue({
      name,
      bound: options.queueBound,
      indexedDB: options.indexedDB,
      tab: this._tab,
      adoptInterval: options.adoptInterval
    });
    this._queue.changed.connect(() => {
      this._changed();
      this._sendFullBatches();
    });
    // Events of a closed tab have waited already: send them now, unless the
    // server is failing and delivery backs off.
    this._queue.adopted.connect(() => {
      if (this._reason === null) {
        void this._send(true).catch(() => undefined);
      }
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
   * The default number of events sent in one batch.
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
      connected: this._reason === null,
      reason: this._reason,
      durable: this._queue.isDurable,
      waiting: this._queue.size,
      dropped: this._queue.dropped,
      rejected: this._rejected,
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
  ): Promise<IEventsClient.IEmitted> {
    if (this.isDisposed) {
      return Promise.reject(new Error('The events client is disposed.'));
    }
    const timestamp = new Date().toISOString();
    if (!this._validator.find(schemaId, version)) {
      return this._emitUnknown(schemaId, data, version, timestamp);
    }
    let schema: IEventsClient.ISchema;
    try {
      schema = this._validator.validate(schemaId, data, version);
    } catch (error) {
      return Promise.reject(error);
    }
    return this._enqueue({
      id: uuid(),
      schema_id: schema.id,
      version: schema.version,
      data: data as JSONObject,
      timestamp
    });
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
   * Emit an event of a schema the validator does not know. Before the schema
   * list has arrived, the event is queued as it is and validated once the
   * list is there, before it is sent: waiting for the list would keep `emit`
   * waiting, and the event in no queue, for as long as the server takes. A
   * schema registered since the list was fetched is looked for again (for a
   * short while at most) before the event is refused as unknown.
   */
  private async _emitUnknown(
    schemaId: string,
    data: ReadonlyJSONObject,
    version: number | string | undefined,
    timestamp: string
  ): Promise<IEventsClient.IEmitted> {
    let known = this._fetched;
    if (known && Date.now() - this._fetchedAt > Private.REFRESH_UNKNOWN) {
      known = await Promise.race([
        this.listSchemas({ refresh: true }).then(
          () => true,
          () => true
        ),
        new Promise<boolean>(resolve =>
          setTimeout(() => resolve(false), Private.SCHEMA_WAIT)
        )
      ]);
    }
    if (this.isDisposed) {
      throw new Error('The events client is disposed.');
    }
    if (!known) {
      const unchecked: Private.IUnchecked = {
        id: uuid(),
        schema_id: schemaId,
        version: version ?? null,
        data: data as JSONObject,
        timestamp,
        unchecked: true
      };
      return this._enqueue(unchecked as unknown as IEventsClient.IRecord);
    }
    const schema = this._validator.validate(schemaId, data, version);
    return this._enqueue({
      id: uuid(),
      schema_id: schema.id,
      version: schema.version,
      data: data as JSONObject,
      timestamp
    });
  }

  private async _enqueue(
    record: IEventsClient.IRecord
  ): Promise<IEventsClient.IEmitted> {
    const stored = this._queue.push(record);
    this._changed();
    this._sendFullBatches();
    return { id: record.id, durable: await stored };
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
   * Post batches, one request at a time, as the one tab that sends.
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
          await this._tab.send(async () => {
            const batch = this._queue.peek(this._limit);
            if (batch.length && !this.isDisposed) {
              await this._post(batch);
            }
          });
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

  private async _post(queued: IEventsClient.IRecord[]): Promise<void> {
    const batch = await this._check(queued);
    if (!batch.length || this.isDisposed) {
      // Disposed meanwhile: its events may be another tab's by now.
      return;
    }
    let reply: unknown;
    this._inFlight = new Set(batch.map(([record]) => record.id));
    const transport = this._ingest.transport;
    try {
      // The events socket, or POST: the same answers either way.
      reply = await this._ingest.send(
        JSON.stringify({ events: batch.map(([, wire]) => wire) }),
        this._requestTimeout
      );
    } catch (error) {
      const status =
        error instanceof ServerConnection.ResponseError
          ? error.response.status
          : null;
      if (status === 400 || status === 413) {
        // The whole body refused: too large, or one event in it is malformed.
        this._setReason(null);
        if (batch.length > 1) {
          // Split it; sizes grow back with each batch the server takes.
          this._limit = Math.max(1, Math.floor(batch.length / 2));
          return;
        }
        this._refuse(batch, [{ index: 0, message: (error as Error).message }]);
        return;
      }
      this._setReason(reasonOf(error));
      throw error;
    } finally {
      this._inFlight = new Set();
      if (this._ingest.transport !== transport) {
        this._changed();
      }
    }
    if (!Private.accountsFor(reply, batch.length)) {
      // A proxy's page, or a server that does not speak this API: nothing
      // says the events were recorded, so they stay and are sent again.
      this._setReason({
        kind: 'server-error',
        status: null,
        message:
          'The server’s reply does not account for every event sent; retrying.'
      });
      throw new Error(
        `jupyter-events-ext: a reply that does not account for the ${batch.length} events sent`
      );
    }
    this._setReason(null);
    this._limit = Math.min(this._batchSize, this._limit * 2);
    const rejected = reply.rejected;
    this._refuse(batch, rejected);
    const refused = new Set(rejected.map(({ index }) => index));
    void this._queue.remove(
      batch.filter((_, index) => !refused.has(index)).map(([r]) => r.id)
    );
    this._changed();
  }

  /**
   * The events of a batch as they are sent. Those queued before the schema
   * list arrived are validated now, fetching the list if need be; the invalid
   * ones are refused without a request.
   */
  private async _check(
    batch: IEventsClient.IRecord[]
  ): Promise<[IEventsClient.IRecord, IEventsClient.IRecord][]> {
    const checked: [IEventsClient.IRecord, IEventsClient.IRecord][] = [];
    const invalid: [IEventsClient.IRecord, IEventsClient.IRecord][] = [];
    const messages: { index: number; message: string }[] = [];
    for (const record of batch) {
      if (!(record as Partial<Private.IUnchecked>).unchecked) {
        checked.push([record, record]);
        continue;
      }
      if (!this._fetched) {
        try {
          await this.listSchemas();
        } catch (error) {
          this._setReason(reasonOf(error));
          throw error;
        }
      }
      try {
        const schema = this._validator.validate(
          record.schema_id,
          record.data,
          record.version ?? undefined
        );
        checked.push([record, Private.wire(record, schema.version)]);
      } catch (error) {
        messages.push({ index: invalid.length, message: String(error) });
        invalid.push([record, record]);
      }
    }
    this._refuse(invalid, messages);
    return checked;
  }

  /**
   * Drop the events the server refused: sending them again cannot succeed.
   */
  private _refuse(
    batch: [IEventsClient.IRecord, IEventsClient.IRecord][],
    rejected: ReadonlyArray<{ index: number; message: string }>
  ): void {
    for (const { index, message } of rejected) {
      const record = batch[index]?.[0];
      console.warn(
        `jupyter-events-ext: the server refused a "${record?.schema_id}" event: ${message}`
      );
    }
    if (rejected.length) {
      this._rejected += rejected.length;
      void this._queue.remove(rejected.map(({ index }) => batch[index][0].id));
      this._changed();
    }
  }

  private _fetchSchemas(): Promise<ReadonlyArray<IEventsClient.ISchema>> {
    const fetching = requestAPI<{ schemas: IEventsClient.ISchema[] }>(
      'schemas',
      { signal: Private.timeout(this._requestTimeout) },
      this.serverSettings
    ).then(
      reply => {
        const schemas = reply?.schemas;
        if (!Array.isArray(schemas)) {
          const error = new Error(
            'The server’s reply is not a list of schemas.'
          );
          this._setReason({
            kind: 'server-error',
            status: null,
            message: `${error.message} Retrying.`
          });
          throw error;
        }
        this._validator.update(schemas);
        this._fetched = true;
        this._fetchedAt = Date.now();
        this._storeSchemas(schemas);
        return schemas;
      },
      reason => {
        this._setReason(reasonOf(reason));
        if (this._schemas === fetching) {
          this._schemas = null;
        }
        throw reason;
      }
    );
    return fetching;
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

  private _setReason(reason: IEventsClient.IReason | null): void {
    if (JSON.stringify(this._reason) !== JSON.stringify(reason)) {
      this._reason = reason;
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
   * Leaving the page: post what waits with `keepalive`, which outlives the
   * page (a socket does not), in bodies of 64 KiB at most (what a browser
   * allows in flight), as many as the browser takes; it refuses the rest,
   * which the next page sends.
   * The events stay stored; the server ignores those it already has when they
   * are sent again. Nothing is posted when the last batch failed, nor what
   * the batch in flight holds: it would be sent twice.
   */
  private _onPageHide = (): void => {
    void this._queue.persist();
    if (this._reason !== null) {
      return;
    }
    const encoder = new TextEncoder();
    const bodies: string[][] = [[]];
    let bytes = Private.BATCH_OVERHEAD;
    for (const record of this._queue.peek(this._queue.size, this._inFlight)) {
      let wire = record;
      if ((record as Partial<Private.IUnchecked>).unchecked) {
        const schema = this._validator.find(
          record.schema_id,
          record.version ?? undefined
        );
        if (!schema) {
          continue;
        }
        wire = Private.wire(record, schema.version);
      }
      const json = JSON.stringify(wire);
      const size = encoder.encode(json).length + 1;
      if (size + Private.BATCH_OVERHEAD > Private.KEEPALIVE_BYTES) {
        continue; // Too large for keepalive: the next page sends it.
      }
      let body = bodies[bodies.length - 1];
      if (
        bytes + size > Private.KEEPALIVE_BYTES ||
        body.length >= this._limit
      ) {
        body = [];
        bodies.push(body);
        bytes = Private.BATCH_OVERHEAD;
      }
      body.push(json);
      bytes += size;
    }
    for (const body of bodies) {
      if (body.length) {
        void requestAPI(
          'events',
          {
            method: 'POST',
            body: `{"events":[${body.join(',')}]}`,
            keepalive: true
          },
          this.serverSettings
        ).catch(() => undefined);
      }
    }
  };

  private _onVisibilityChange = (): void => {
    if (document.visibilityState === 'hidden' && this._queue.size > 0) {
      void this._queue.persist();
      void this.flush().catch(() => undefined);
    }
  };

  private _batchSize: number;
  private _delivery: Poll;
  private _fetched = false;
  private _fetchedAt = 0;
  private _ingest: EventsIngest;
  private _inFlight: ReadonlySet<string> = new Set();
  private _limit: number;
  private _queue: EventQueue;
  private _refreshing = false;
  private _reason: IEventsClient.IReason | null = null;
  private _rejected = 0;
  private _requestTimeout: number;
  private _schemas: Promise<ReadonlyArray<IEventsClient.ISchema>> | null = null;
  private _sending: Promise<void> | null = null;
  private _statePending = false;
  private _stateChanged = new Signal<this, IEventsClient.IState>(this);
  private _storage: Storage | null;
  private _subscriptions = new Set<EventStream>();
  private _tab: TabLock;
  private _validator = new SchemaValidator();
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
   * The reply to a batch.
   */
  export interface IBatchReply {
    accepted: number;
    duplicates: number;
    rejected: { index: number; message: string }[];
  }

  /**
   * An event queued before the schema list arrived: validated, and its
   * version chosen, when it is sent.
   */
  export interface IUnchecked extends Omit<IEventsClient.IRecord, 'version'> {
    version: number | string | null;
    unchecked: true;
  }

  /**
   * The bytes of one `keepalive` body at most: browsers allow 64 KiB of them
   * in flight per page.
   */
  export const KEEPALIVE_BYTES = 64 * 1024;

  /**
   * The bytes of `{"events":[]}`.
   */
  export const BATCH_OVERHEAD = 13;

  /**
   * Milliseconds before a request is given up (and retried), by default.
   */
  export const REQUEST_TIMEOUT = 30 * 1000;

  /**
   * How often an unknown schema id may make the client fetch the list again.
   */
  export const REFRESH_UNKNOWN = 10 * 1000;

  /**
   * How long `emit` waits for the list fetched again for an unknown schema
   * before queueing the event to be validated once the list is there.
   */
  export const SCHEMA_WAIT = 5 * 1000;

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
   * An event as it is sent, with the version validation chose.
   */
  export function wire(
    record: IEventsClient.IRecord,
    version: number | string
  ): IEventsClient.IRecord {
    const { id, schema_id, data, timestamp } = record;
    return { id, schema_id, version, data, timestamp };
  }

  /**
   * Whether a batch reply accounts for each of the `count` events sent.
   */
  export function accountsFor(
    reply: unknown,
    count: number
  ): reply is IBatchReply {
    if (typeof reply !== 'object' || reply === null) {
      return false;
    }
    const { accepted, duplicates, rejected } = reply as IBatchReply;
    if (
      !Number.isInteger(accepted) ||
      !Number.isInteger(duplicates) ||
      accepted < 0 ||
      duplicates < 0 ||
      !Array.isArray(rejected)
    ) {
      return false;
    }
    const indices = new Set<number>();
    for (const entry of rejected) {
      const index = entry?.index;
      if (!Number.isInteger(index) || index < 0 || index >= count) {
        return false;
      }
      indices.add(index);
    }
    return (
      indices.size === rejected.length &&
      accepted + duplicates + rejected.length === count
    );
  }

  /**
   * A signal that aborts a request after `ms` milliseconds: a request that
   * never ends would hold up every tab's delivery.
   */
  export function timeout(ms: number): AbortSignal {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), ms);
    return controller.signal;
  }
}
