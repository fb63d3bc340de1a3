import { ServerConnection } from '@jupyterlab/services';
import type { IDisposable } from '@lumino/disposable';

import { socketURL } from './request';

/**
 * One conversation on the events socket (`WS jupyter-events-ext/events/socket`):
 * a message, then its answer, one at a time. `exchange` keeps the contract of
 * a POST: it resolves with the reply body (`undefined` for 204), throws
 * `ServerConnection.ResponseError` for a 4xx or 5xx answer and
 * `ServerConnection.NetworkError` when nothing says what happened.
 *
 * The socket opens when there is something to send and closes after a while
 * with nothing to send. Whatever goes wrong while a message waits for its
 * answer closes the socket, so that a late answer can never be taken for the
 * answer to a later message.
 */
export class EventsSocket implements IDisposable {
  constructor(options: EventsSocket.IOptions) {
    this._serverSettings = options.serverSettings;
    this._idleTimeout = options.idleTimeout;
    this._onUnusable = options.onUnusable;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Open the socket, unless it is open, within `timeout` milliseconds (an
   * upgrade that hangs counts as one refused).
   *
   * @throws when it closes before it opens: a browser cannot see why
   */
  open(timeout: number): Promise<void> {
    const current = this._socket;
    if (current && current.readyState === Private.OPEN) {
      return Promise.resolve();
    }
    this._close();
    return new Promise<void>((resolve, reject) => {
      const socket = new this._serverSettings.WebSocket(
        socketURL('events/socket', [], this._serverSettings)
      );
      this._socket = socket;
      const notOpened = () => {
        clearTimeout(timer);
        this._opening = null;
        if (this._socket === socket) {
          this._socket = null;
        }
        reject(new Private.NotOpened());
      };
      const timer = setTimeout(() => this._close(), timeout);
      this._opening = notOpened;
      socket.onopen = () => {
        clearTimeout(timer);
        this._opening = null;
        this._answered = false;
        socket.onclose = event => this._onClose(socket, event);
        socket.onmessage = message => this._onAnswer(socket, message);
        resolve();
      };
      // An error is always followed by a close.
      socket.onerror = () => undefined;
      socket.onclose = notOpened;
    });
  }

  /**
   * Send a message on the open socket and wait for its answer, at most
   * `timeout` milliseconds.
   */
  exchange(body: string, timeout: number): Promise<unknown> {
    clearTimeout(this._idleTimer);
    const socket = this._socket;
    if (!socket || socket.readyState !== Private.OPEN) {
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

  /**
   * Close the socket; a message waiting for its answer fails.
   */
  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._fail(Private.networkError('The events transport is disposed.'));
    this._close();
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
      this._onUnusable();
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

  private _answered = false;
  private _idleTimeout: number;
  private _idleTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  private _isDisposed = false;
  private _onUnusable: () => void;
  private _opening: (() => void) | null = null;
  private _serverSettings: ServerConnection.ISettings;
  private _socket: WebSocket | null = null;
  private _waiting: Private.IWaiting | null = null;
}

/**
 * The statics of the events socket.
 */
export namespace EventsSocket {
  export interface IOptions {
    serverSettings: ServerConnection.ISettings;
    /**
     * Milliseconds with nothing sent before the socket closes.
     */
    idleTimeout: number;
    /**
     * Told when a socket that never answered anything fails (a proxy that
     * passes the upgrade, not the messages): it is taken for one that cannot
     * work.
     */
    onUnusable: () => void;
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
