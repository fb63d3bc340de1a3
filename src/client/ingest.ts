import { ServerConnection } from '@jupyterlab/services';
import type { IDisposable } from '@lumino/disposable';

import type { IEventsClient } from '../tokens';
import { requestAPI } from './request';
import { EventsSocket } from './socket';

/**
 * The way event batches reach the server: the events socket
 * (`WS jupyter-events-ext/events/socket`), with `POST jupyter-events-ext/events`
 * as its fallback, and a last `keepalive` POST when the page goes away.
 *
 * A message on the socket costs the server a fraction of a request (no
 * per-request authentication, cookies, logging), which counts on a hub that
 * receives every user's browser. `send` keeps the contract of the POST, so
 * that the client handles the answers of both transports alike: it resolves
 * with the reply body (`undefined` for 204), throws
 * `ServerConnection.ResponseError` for a 4xx or 5xx answer and
 * `ServerConnection.NetworkError` when nothing says what happened.
 *
 * A socket that cannot open at all (a server without the route, a proxy that
 * does not pass WebSockets, a refused upgrade: the browser cannot see why)
 * sends that batch by POST instead, and the next ones for a while, so that
 * such a deployment still delivers, and a failing server still says its HTTP
 * status. So does a socket that opens but fails before its first answer (a
 * proxy that passes the upgrade, not the messages).
 */
export class EventsIngest implements IDisposable {
  /**
   * Create the transport; nothing opens until something is sent.
   */
  constructor(options: EventsIngest.IOptions = {}) {
    this.serverSettings =
      options.serverSettings ?? ServerConnection.makeSettings();
    this._fallbackPeriod =
      options.fallbackPeriod ?? EventsIngest.FALLBACK_PERIOD;
    this._socket = new EventsSocket({
      serverSettings: this.serverSettings,
      idleTimeout: options.idleTimeout ?? EventsIngest.IDLE_TIMEOUT,
      onUnusable: () => this._postForAWhile()
    });
  }

  /**
   * The server settings of the socket and the POST.
   */
  readonly serverSettings: ServerConnection.ISettings;

  /**
   * How the last batch was sent, `null` before the first.
   */
  get transport(): IEventsClient.Transport | null {
    return this._transport;
  }

  /**
   * Whether the transport is disposed.
   */
  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Send one batch body (`{"events": [...]}`) and wait for its answer, at
   * most `timeout` milliseconds. Batches are sent one after the other.
   */
  send(body: string, timeout: number): Promise<unknown> {
    const sending = this._last
      .catch(() => undefined)
      .then(() => this._send(body, timeout));
    this._last = sending;
    return sending;
  }

  /**
   * The page is going away: post these events with `keepalive`, which
   * outlives the page (a socket does not), in bodies of 64 KiB at most (what
   * a browser allows in flight) and of `batchSize` events at most, as many as
   * the browser takes; it refuses the rest, which the next page sends. Not
   * waited for: a page that goes away reads no answer.
   */
  sendOnPageHide(
    records: ReadonlyArray<IEventsClient.IRecord>,
    batchSize: number
  ): void {
    for (const body of Private.keepaliveBodies(records, batchSize)) {
      void requestAPI(
        'events',
        { method: 'POST', body, keepalive: true },
        this.serverSettings
      ).catch(() => undefined);
    }
  }

  /**
   * Close the socket; a batch waiting for its answer fails.
   */
  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._socket.dispose();
  }

  private async _send(body: string, timeout: number): Promise<unknown> {
    if (this._isDisposed) {
      throw new ServerConnection.NetworkError(
        new TypeError('The events transport is disposed.')
      );
    }
    const deadline = Date.now() + timeout;
    if (Date.now() < this._postUntil) {
      return this._post(body, timeout);
    }
    try {
      await this._socket.open(Math.min(timeout, EventsIngest.OPEN_TIMEOUT));
    } catch {
      if (this._isDisposed) {
        throw new ServerConnection.NetworkError(
          new TypeError('The events transport is disposed.')
        );
      }
      // Cannot open at all: POST, which says why when it fails too.
      this._postForAWhile();
      return this._post(body, Math.max(0, deadline - Date.now()));
    }
    this._transport = 'socket';
    return this._socket.exchange(body, Math.max(0, deadline - Date.now()));
  }

  /**
   * Send batches by POST for a while, then try the socket again.
   */
  private _postForAWhile(): void {
    this._postUntil = Date.now() + this._fallbackPeriod;
  }

  private _post(body: string, timeout: number): Promise<unknown> {
    this._transport = 'post';
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeout);
    return requestAPI<unknown>(
      'events',
      { method: 'POST', body, signal: controller.signal },
      this.serverSettings
    ).finally(() => clearTimeout(timer));
  }

  private _fallbackPeriod: number;
  private _isDisposed = false;
  private _last: Promise<unknown> = Promise.resolve();
  private _postUntil = 0;
  private _socket: EventsSocket;
  private _transport: IEventsClient.Transport | null = null;
}

/**
 * The statics of the events transport.
 */
export namespace EventsIngest {
  /**
   * Milliseconds with nothing sent after which the socket closes: an idle
   * tab holds no connection.
   */
  export const IDLE_TIMEOUT = 45 * 1000;

  /**
   * Milliseconds the socket may take to open before it counts as refused
   * (within the batch's own timeout, leaving the rest to the POST).
   */
  export const OPEN_TIMEOUT = 10 * 1000;

  /**
   * Milliseconds batches go by POST after the socket failed to open, before
   * the socket is tried again.
   */
  export const FALLBACK_PERIOD = 60 * 1000;

  /**
   * How the socket is kept.
   */
  export interface ITimings {
    /**
     * Milliseconds with nothing sent before the socket closes.
     */
    idleTimeout: number;
    /**
     * Milliseconds of POST after the socket failed to open.
     */
    fallbackPeriod: number;
  }

  /**
   * The options of the transport.
   */
  export interface IOptions extends Partial<ITimings> {
    /**
     * The server settings; JupyterLab's defaults when omitted.
     */
    serverSettings?: ServerConnection.ISettings;
  }
}

namespace Private {
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
   * Batch bodies of these records, each within `KEEPALIVE_BYTES` and of
   * `batchSize` records at most; a record too large for any is left out.
   */
  export function keepaliveBodies(
    records: ReadonlyArray<IEventsClient.IRecord>,
    batchSize: number
  ): string[] {
    const encoder = new TextEncoder();
    const bodies: string[][] = [[]];
    let bytes = BATCH_OVERHEAD;
    for (const record of records) {
      const json = JSON.stringify(record);
      const size = encoder.encode(json).length + 1;
      if (size + BATCH_OVERHEAD > KEEPALIVE_BYTES) {
        continue; // Too large for keepalive: the next page sends it.
      }
      let body = bodies[bodies.length - 1];
      if (bytes + size > KEEPALIVE_BYTES || body.length >= batchSize) {
        body = [];
        bodies.push(body);
        bytes = BATCH_OVERHEAD;
      }
      body.push(json);
      bytes += size;
    }
    return bodies
      .filter(body => body.length)
      .map(body => `{"events":[${body.join(',')}]}`);
  }
}
