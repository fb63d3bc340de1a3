import { ServerConnection } from '@jupyterlab/services';
import type { IDisposable } from '@lumino/disposable';
import { type IPoll, Poll } from '@lumino/polling';

import type { IEventsClient } from '../tokens';
import type { SchemaCatalog } from './catalog';
import type { EventsIngest } from './ingest';
import type { EventQueue } from './queue';
import { reasonOf } from './reason';
import { EventRecord } from './record';
import { BatchReply } from './reply';
import type { TabLock } from './tabs';

/**
 * The send loop: batches of the queue's oldest events, one at a time and as
 * the one tab that sends, through the transport, retried with backoff until
 * the server has them. It keeps why the last request failed, and counts the
 * events the server refused.
 *
 * A batch the server finds too large is split (and sizes grow back with each
 * batch it takes); a reply that does not account for every event sent keeps
 * the batch and retries it; events the server refuses are dropped.
 */
export class Delivery implements IDisposable {
  constructor(options: Delivery.IOptions) {
    this._queue = options.queue;
    this._tab = options.tab;
    this._transport = options.transport;
    this._catalog = options.catalog;
    this._batchSize = options.batchSize;
    this._limit = options.batchSize;
    this._requestTimeout = options.requestTimeout;
    this._onChange = options.onChange;
    this._poll = new Poll({
      auto: false,
      factory: state => this._tick(state),
      frequency: {
        interval: options.batchInterval,
        backoff: true,
        max: options.maxRetryInterval
      },
      name: 'jupyter-events-ext:delivery',
      // Tick only while events wait; `never` also keeps delivering in hidden tabs.
      standby: () => this._queue.size === 0 || 'never'
    });
  }

  /**
   * Why the last request failed; `null` once one succeeds.
   */
  get reason(): IEventsClient.IReason | null {
    return this._reason;
  }

  /**
   * How many events the server refused.
   */
  get rejected(): number {
    return this._rejected;
  }

  /**
   * How many events a batch holds at most.
   */
  get batchSize(): number {
    return this._batchSize;
  }

  /**
   * Milliseconds an event waits for others to join its batch.
   */
  get batchInterval(): number {
    return this._poll.frequency.interval;
  }

  get isDisposed(): boolean {
    return this._poll.isDisposed;
  }

  /**
   * Start ticking (once the queue has loaded what earlier pages left).
   */
  start(): void {
    void this._poll.start();
  }

  /**
   * Change the batch size and the interval; applies at once.
   */
  configure(config: { batchSize?: number; batchInterval: number }): void {
    if (config.batchSize !== undefined) {
      this._batchSize = this._limit = config.batchSize;
    }
    const interval = config.batchInterval;
    if (interval !== this._poll.frequency.interval) {
      this._poll.frequency = { ...this._poll.frequency, interval };
      // The tick already scheduled would keep the old interval.
      const { phase } = this._poll.state;
      if (phase !== 'constructed' && phase !== 'rejected') {
        void this._poll.schedule({ interval, phase: 'standby' });
      }
    }
    this.sendFullBatches();
  }

  /**
   * Tick now when a full batch waits (not while backing off).
   */
  sendFullBatches(): void {
    if (
      !this._refreshing &&
      this._queue.size >= this._limit &&
      this._poll.state.phase !== 'rejected'
    ) {
      this._refreshing = true;
      void this._poll.refresh();
    }
  }

  /**
   * Send every waiting event now.
   */
  flush(): Promise<void> {
    return this._send(true);
  }

  /**
   * Send now what another tab left (it has waited already), unless the
   * server is failing and delivery backs off.
   */
  sendAdopted(): void {
    if (this._reason === null) {
      void this._send(true).catch(() => undefined);
    }
  }

  /**
   * The page is going away: hand what waits to the transport's last send,
   * which outlives the page. Nothing when the last batch failed, nor what
   * the batch in flight holds: it would be sent twice. The events stay
   * stored; the server ignores those it already has when they come again.
   */
  sendOnPageHide(): void {
    if (this._reason !== null) {
      return;
    }
    const records: IEventsClient.IRecord[] = [];
    for (const record of this._queue.peek(this._queue.size, this._inFlight)) {
      try {
        records.push(EventRecord.toWire(record, this._catalog.validate));
      } catch {
        // Not valid (or its schema not known yet): the next page sees to it.
      }
    }
    this._transport.sendOnPageHide(records, this._limit);
  }

  /**
   * Say why requests fail (or that they succeed, with `null`).
   */
  setReason(reason: IEventsClient.IReason | null): void {
    if (JSON.stringify(this._reason) !== JSON.stringify(reason)) {
      this._reason = reason;
      this._onChange();
    }
  }

  dispose(): void {
    this._poll.dispose();
  }

  /**
   * One tick: everything when the interval (or a retry) brought it, full
   * batches only when it was asked for by a full batch or at start-up.
   */
  private _tick(state: IPoll.State<any, any, any>): Promise<void> {
    this._refreshing = false;
    return this._send(state.phase !== 'refreshed' && state.phase !== 'started');
  }

  /**
   * Send batches, one at a time, as the one tab that sends.
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
              await this._sendBatch(batch);
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

  private async _sendBatch(queued: IEventsClient.IRecord[]): Promise<void> {
    const batch = await this._check(queued);
    if (!batch.length || this.isDisposed) {
      // Disposed meanwhile: its events may be another tab's by now.
      return;
    }
    let reply: unknown;
    this._inFlight = new Set(batch.map(([record]) => record.id));
    const transport = this._transport.transport;
    try {
      // The events socket, or POST: the same answers either way.
      reply = await this._transport.send(
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
        this.setReason(null);
        if (batch.length > 1) {
          // Split it; sizes grow back with each batch the server takes.
          this._limit = Math.max(1, Math.floor(batch.length / 2));
          return;
        }
        this._refuse(batch, [{ index: 0, message: (error as Error).message }]);
        return;
      }
      this.setReason(reasonOf(error));
      throw error;
    } finally {
      this._inFlight = new Set();
      if (this._transport.transport !== transport) {
        this._onChange();
      }
    }
    if (!BatchReply.accountsFor(reply, batch.length)) {
      // A proxy's page, or a server that does not speak this API: nothing
      // says the events were recorded, so they stay and are sent again.
      this.setReason({
        kind: 'server-error',
        status: null,
        message:
          'The server’s reply does not account for every event sent; retrying.'
      });
      throw new Error(
        `jupyter-events-ext: a reply that does not account for the ${batch.length} events sent`
      );
    }
    this.setReason(null);
    this._limit = Math.min(this._batchSize, this._limit * 2);
    const rejected = reply.rejected;
    this._refuse(batch, rejected);
    const refused = new Set(rejected.map(({ index }) => index));
    void this._queue.remove(
      batch.filter((_, index) => !refused.has(index)).map(([r]) => r.id)
    );
    this._onChange();
  }

  /**
   * The events of a batch, each with its record as sent. Those queued before
   * the schema list arrived are validated now, fetching the list if need be;
   * the invalid ones are refused without a request.
   */
  private async _check(
    batch: IEventsClient.IRecord[]
  ): Promise<Delivery.Pair[]> {
    const checked: Delivery.Pair[] = [];
    const invalid: Delivery.Pair[] = [];
    const messages: { index: number; message: string }[] = [];
    for (const record of batch) {
      if (EventRecord.isUnchecked(record) && !this._catalog.known) {
        try {
          await this._catalog.list();
        } catch (error) {
          this.setReason(reasonOf(error));
          throw error;
        }
      }
      try {
        checked.push([
          record,
          EventRecord.toWire(record, this._catalog.validate)
        ]);
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
    batch: Delivery.Pair[],
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
      this._onChange();
    }
  }

  private _batchSize: number;
  private _catalog: SchemaCatalog;
  private _inFlight: ReadonlySet<string> = new Set();
  private _limit: number;
  private _onChange: () => void;
  private _poll: Poll;
  private _queue: EventQueue;
  private _reason: IEventsClient.IReason | null = null;
  private _refreshing = false;
  private _rejected = 0;
  private _requestTimeout: number;
  private _sending: Promise<void> | null = null;
  private _tab: TabLock;
  private _transport: EventsIngest;
}

export namespace Delivery {
  export interface IOptions {
    queue: EventQueue;
    tab: TabLock;
    transport: EventsIngest;
    catalog: SchemaCatalog;
    batchSize: number;
    batchInterval: number;
    maxRetryInterval: number;
    requestTimeout: number;
    /**
     * Told when the reason, the counts or the transport change.
     */
    onChange: () => void;
  }

  /**
   * A queued record and the record as sent.
   */
  export type Pair = [IEventsClient.IRecord, IEventsClient.IRecord];
}
