import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import type { IDisposable } from '@lumino/disposable';

import { API_NAMESPACE, requestAPI } from './request';
import type { IEventsClient } from '../tokens';

/**
 * The way event batches reach the server: the events socket
 * (`WS jupyter-events-ext/events/socket`), with `POST jupyter-events-ext/events`
 * as its fallback.
 *
 * A message on the socket costs the server a fraction of a request (no
 * per-request authentication, cookies, logging), which counts on a hub that
 * receives every user's browser. `send` keeps the contract of the POST, so
 * that the client handles the answers of both transports alike: it resolves
 * with the reply body (`undefined` for 204), throws
 * `ServerConnection.ResponseError` for a 4xx or 5xx answer and
 * `ServerConnection.NetworkError` when nothing says what happened.
 *
 * The socket opens when there is something to send and closes after a while
 * with nothing to send. One message waits for its answer at a time; whatever
 * goes wrong meanwhile closes that socket, so that a late answer can never be
 * taken for the answer to a later message. A socket that cannot open at all (a
 * server without the route, a proxy that does not pass WebSockets, a refused
 * upgrade: the browser cannot see why) sends that batch by POST instead, and
 * the next ones for a while, so that such a deployment still delivers, and a
 * failing server still says its HTTP status. So does a socket that opens
 * but fails before its first answer (a proxy that passes the upgrade, not
 * the messages).
 */
export class EventsIngest implements IDisposable {
  /**
   * Create the transport; nothing opens until something is sent.
   */
  constructor(options: EventsIngest.IOptions = {}) {
    this.serverSettings =
      options.serverSettings ?? ServerConnection.makeSettings();
    this._idleTimeout = options.idleTimeout ?? EventsIngest.IDLE_TIMEOUT;
    this._fallbackPeriod =
      options.fallbackPeriod ?? EventsIngest.FALLBACK_PERIOD;
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
   * Close the socket; a batch waiting for its answer fails.
   */
  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._fail(Private.networkError('The events transport is disposed.'));
    this._close();
  }

  private async _send(body: string, timeout: number): Promise<unknown> {
    if (this._isDisposed) {
      throw Private.networkError('The events transport is disposed.');
    }
    const deadline = Date.now() + timeout;
    if (Date.now() < this._postUntil) {
      return this._post(body, timeout);
    }
    let socket: WebSocket;
    try {
      socket = await this._open(Math.min(timeout, EventsIngest.OPEN_TIMEOUT));
    } catch {
      if (this._isDisposed) {
        throw Private.networkError('The events transport is disposed.');
      }
      // Cannot open at all: POST, which says why when it fails too.
      this._postUntil = Date.now() + this._fallbackPeriod;
      return this._post(body, Math.max(0, deadline - Date.now()));
    }
    return this._exchange(socket, body, Math.max(0, deadline - Date.now()));
  }

  /**
   * The open socket, opened now if need be.
   */
  private _open(timeout: number): Promise<WebSocket> {
    const current = this._socket;
    if (current && current.readyState === Private.OPEN) {
      return Promise.resolve(current);
    }
    this._close();
    return new Promise<WebSocket>((resolve, reject) => {
      const socket = new this.serverSettings.WebSocket(this._url());
      this._socket = socket;
      const notOpened = () => {
        clearTimeout(timer);
        this._opening = null;
        if (this._socket === socket) {
          this._socket = null;
        }
        reject(new Private.NotOpened());
      };
      // An upgrade that hangs counts as one refused.
      const timer = setTimeout(() => this._close(), timeout);
      this._opening = notOpened;
      socket.onopen = () => {
        clearTimeout(timer);
        this._opening = null;
        this._answered = false;
        socket.onclose = event => this._onClose(socket, event);
        socket.onmessage = message => this._onAnswer(socket, message);
        resolve(socket);
      };
      // An error is always followed by a close.
      socket.onerror = () => undefined;
      socket.onclose = notOpened;
    });
  }

  /**
   * Send a message on the socket and wait for its answer.
   */
  private _exchange(
    socket: WebSocket,
    body: string,
    timeout: number
  ): Promise<unknown> {
    clearTimeout(this._idleTimer);
    this._transport = 'socket';
    if (socket.readyState !== Private.OPEN) {
      this._close();
      return Promise.reject(
        Private.networkError('The events socket closed before sending.')
      );
    }
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this._unusable();
        this._fail(
          Private.networkError('No answer on the events socket in time.')
        );
        // A late answer must not be read as the next message's: close.
        this._close();
      }, timeout);
      this._waiting = { socket, resolve, reject, timer };
      try {
        socket.send(body);
      } catch (error) {
        this._close();
        this._fail(Private.networkError(String(error)));
      }
    });
  }

  private _onAnswer(socket: WebSocket, message: MessageEvent): void {
    const waiting = this._waiting;
    if (!waiting || waiting.socket !== socket) {
      // An answer to nothing: the conversation is lost; start another.
      this._close();
      return;
    }
    this._waiting = null;
    this._answered = true;
    clearTimeout(waiting.timer);
    this._idleTimer = setTimeout(() => this._close(), this._idleTimeout);
    const answer = Private.parse(message.data);
    if (answer === null) {
      // Not an answer of this API: the client finds that it accounts for
      // nothing and retries; a new socket starts in step again.
      this._close();
      waiting.resolve(message.data);
      return;
    }
    const { status, ...reply } = answer;
    if (status >= 200 && status < 300) {
      waiting.resolve(status === 204 ? undefined : reply);
      return;
    }
    waiting.reject(
      new ServerConnection.ResponseError(
        new Response(null, { status }),
        typeof reply.message === 'string' ? reply.message : undefined
      )
    );
  }

  private _onClose(socket: WebSocket, event: CloseEvent): void {
    if (this._socket === socket) {
      this._socket = null;
      clearTimeout(this._idleTimer);
    }
    if (this._waiting?.socket !== socket) {
      return;
    }
    if (event.code === Private.MESSAGE_TOO_BIG) {
      // The server would not read a message that large: split the batch.
      const reason = event.reason || 'The batch is too large for the server.';
      this._fail(
        new ServerConnection.ResponseError(
          new Response(null, { status: 413 }),
          reason
        )
      );
      return;
    }
    this._unusable();
    this._fail(
      Private.networkError(
        `The events socket closed before its answer (${event.code}).`
      )
    );
  }

  /**
   * After a failure on the socket: one that never answered anything is taken
   * for one that cannot work (a proxy that passes the upgrade, not the
   * messages), and batches go by POST for a while. One that answered before
   * (a server restarting) is opened again.
   */
  private _unusable(): void {
    if (!this._answered) {
      this._postUntil = Date.now() + this._fallbackPeriod;
    }
  }

  /**
   * Reject the batch waiting for its answer, if any.
   */
  private _fail(error: Error): void {
    const waiting = this._waiting;
    if (waiting) {
      this._waiting = null;
      clearTimeout(waiting.timer);
      waiting.reject(error);
    }
  }

  /**
   * Close the socket, deaf to whatever it still says.
   */
  private _close(): void {
    clearTimeout(this._idleTimer);
    const socket = this._socket;
    if (!socket) {
      return;
    }
    this._socket = null;
    socket.onopen = null;
    socket.onmessage = null;
    socket.onerror = null;
    socket.onclose = null;
    socket.close();
    // Whatever waited on it fails now.
    this._opening?.();
    if (this._waiting?.socket === socket) {
      this._fail(Private.networkError('The events socket was closed.'));
    }
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

  /**
   * The socket URL, with the token as the stream's has it.
   */
  private _url(): string {
    const { appendToken, token, wsUrl } = this.serverSettings;
    const url = URLExt.join(wsUrl, API_NAMESPACE, 'events', 'socket');
    return appendToken && token !== ''
      ? `${url}?token=${encodeURIComponent(token)}`
      : url;
  }

  private _answered = false;
  private _fallbackPeriod: number;
  private _idleTimeout: number;
  private _idleTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  private _isDisposed = false;
  private _last: Promise<unknown> = Promise.resolve();
  private _opening: (() => void) | null = null;
  private _postUntil = 0;
  private _socket: WebSocket | null = null;
  private _transport: IEventsClient.Transport | null = null;
  private _waiting: Private.IWaiting | null = null;
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
   * The close code of a message larger than the server reads.
   */
  export const MESSAGE_TOO_BIG = 1009;

  /**
   * `WebSocket.OPEN`, whichever WebSocket class the settings give.
   */
  export const OPEN = 1;

  /**
   * The message waiting for its answer.
   */
  export interface IWaiting {
    socket: WebSocket;
    resolve: (reply: unknown) => void;
    reject: (error: Error) => void;
    timer: ReturnType<typeof setTimeout>;
  }

  /**
   * The socket closed (or never answered the upgrade) before it opened.
   */
  export class NotOpened extends Error {
    constructor() {
      super('The events socket did not open.');
    }
  }

  export function networkError(message: string): Error {
    return new ServerConnection.NetworkError(new TypeError(message));
  }

  /**
   * An answer of the events socket, or `null` when the message is not one.
   */
  export function parse(
    data: unknown
  ): ({ status: number } & Record<string, unknown>) | null {
    if (typeof data !== 'string') {
      return null;
    }
    let answer: unknown;
    try {
      answer = JSON.parse(data);
    } catch {
      return null;
    }
    const status = (answer as { status?: unknown } | null)?.status;
    if (
      typeof answer !== 'object' ||
      answer === null ||
      Array.isArray(answer) ||
      !Number.isInteger(status) ||
      (status as number) < 200 ||
      (status as number) > 599
    ) {
      return null;
    }
    return answer as { status: number } & Record<string, unknown>;
  }
}
