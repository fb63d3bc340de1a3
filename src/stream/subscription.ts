import { ServerConnection } from '@jupyterlab/services';
import { Poll } from '@lumino/polling';
import { type ISignal, Signal, Stream } from '@lumino/signaling';

import { reasonOf } from '../client/reason';
import { requestAPI, socketURL } from '../client/request';
import type { IEventsClient } from '../tokens';

/**
 * A subscription to the server's live event stream
 * (`WS jupyter-events-ext/stream`).
 *
 * The socket reconnects with backoff when it closes, and asks the server to
 * resume after the last event it received, in the server run it received it
 * from, so that nothing still in the server's buffer is missed, even after the
 * server restarted (its positions then count from 1 again). When the socket
 * cannot open, the server is asked why (a browser cannot see the status of a
 * refused upgrade).
 */
export class StreamSubscription implements IEventsClient.ISubscription {
  /**
   * Open a subscription.
   */
  constructor(options: StreamSubscription.IOptions = {}) {
    this.serverSettings =
      options.serverSettings ?? ServerConnection.makeSettings();
    this._schemaIds = [...(options.schemaIds ?? [])];
    this._lastSeq = options.after ?? null;
    this._stream = new Stream(this);
    this._poll = new Poll({
      factory: () => this._connect(),
      frequency: {
        interval: options.reconnectInterval ?? 1000,
        backoff: true,
        max: options.maxReconnectInterval ?? 30 * 1000
      },
      name: 'jupyter-events-ext:stream',
      standby: 'never'
    });
  }

  /**
   * The server settings of the socket.
   */
  readonly serverSettings: ServerConnection.ISettings;

  /**
   * Whether the socket is open.
   */
  get connected(): boolean {
    return this._connected;
  }

  /**
   * A signal emitted when the socket opens or closes.
   */
  get connectionChanged(): ISignal<this, boolean> {
    return this._connectionChanged;
  }

  /**
   * Whether the subscription is disposed.
   */
  get isDisposed(): boolean {
    return this._poll.isDisposed;
  }

  /**
   * Why the socket cannot open, when the server says.
   */
  get reason(): IEventsClient.IReason | null {
    return this._reason;
  }

  /**
   * The sequence number of the last event received, if any.
   */
  get lastSeq(): number | null {
    return this._lastSeq;
  }

  /**
   * The id of the server run the stream is connected to, once it said.
   */
  get runId(): string | null {
    return this._runId;
  }

  /**
   * A signal emitted, on resuming, with how many events the server no longer
   * buffered.
   */
  get missed(): ISignal<this, number> {
    return this._missed;
  }

  /**
   * A signal emitted, on resuming, when the server restarted since the last
   * event received.
   */
  get restarted(): ISignal<this, number> {
    return this._restarted;
  }

  /**
   * The events, as a signal and an async iterator.
   */
  get stream(): Stream<this, IEventsClient.IStreamMessage> {
    return this._stream;
  }

  /**
   * Close the socket and stop reconnecting.
   */
  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._poll.dispose();
    this._closeSocket();
    this._setConnected(false);
    this._stream.stop();
    Signal.clearData(this);
  }

  /**
   * The socket URL, resuming after the last event received.
   */
  private _url(): string {
    const query: string[] = this._schemaIds.map(
      id => `schema_id=${encodeURIComponent(id)}`
    );
    if (this._lastSeq !== null) {
      query.push(`after=${this._lastSeq}`);
      if (this._runId !== null) {
        query.push(`run_id=${encodeURIComponent(this._runId)}`);
      }
    }
    return socketURL('stream', query, this.serverSettings);
  }

  /**
   * Open the socket. The promise settles when the socket closes: it resolves
   * when the socket had opened (reconnect soon) and rejects when it never
   * did (back off).
   */
  private _connect(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.isDisposed) {
        return resolve();
      }
      const socket = (this._socket = new this.serverSettings.WebSocket(
        this._url()
      ));
      let opened = false;
      socket.onopen = () => {
        opened = true;
        this._reason = null;
        this._setConnected(true);
      };
      socket.onmessage = message => this._onMessage(message);
      socket.onclose = event => {
        if (this._socket === socket) {
          this._socket = null;
        }
        this._setConnected(false);
        if (opened) {
          resolve();
        } else {
          void this._askWhy();
          reject(
            new Error(
              `The event stream closed (${event.code}${event.reason ? `: ${event.reason}` : ''}).`
            )
          );
        }
      };
    });
  }

  private _onMessage(message: MessageEvent): void {
    let payload: unknown;
    try {
      payload = JSON.parse(message.data);
    } catch {
      console.warn('jupyter-events-ext: not JSON on the event stream', message);
      return;
    }
    if (!Private.isStreamMessage(payload)) {
      if (Private.isHello(payload)) {
        this._runId = payload.run_id;
      } else if (Private.isMissedNotice(payload)) {
        this._missed.emit(payload.missed);
        if (payload.restarted === true) {
          this._restarted.emit(payload.missed);
          // Positions of the previous run mean nothing in this one.
          this._lastSeq = 0;
        }
      } else {
        console.warn('jupyter-events-ext: event stream notice', payload);
      }
      return;
    }
    this._lastSeq = payload.seq;
    this._stream.emit(payload);
  }

  /**
   * Learn why the socket did not open: the server answers `GET info` with
   * the status it refused the upgrade with (403, or 404 when the extension is
   * not installed); when `GET info` succeeds, the socket alone is refused.
   */
  private async _askWhy(): Promise<void> {
    // The server answering while refusing the socket is a reason too: a proxy
    // that does not pass WebSockets, a cross-origin page, too many subscribers.
    let reason: IEventsClient.IReason | null = StreamSubscription.REFUSED;
    try {
      await requestAPI('info', {}, this.serverSettings);
    } catch (error) {
      reason = reasonOf(error);
    }
    if (
      !this.isDisposed &&
      !this._connected &&
      JSON.stringify(reason) !== JSON.stringify(this._reason)
    ) {
      this._reason = reason;
      this._connectionChanged.emit(false);
    }
  }

  private _closeSocket(): void {
    const socket = this._socket;
    if (socket) {
      this._socket = null;
      socket.onopen = () => undefined;
      socket.onmessage = () => undefined;
      socket.onclose = () => undefined;
      socket.close();
    }
  }

  private _setConnected(connected: boolean): void {
    if (this._connected !== connected) {
      this._connected = connected;
      this._connectionChanged.emit(connected);
    }
  }

  private _connected = false;
  private _connectionChanged = new Signal<this, boolean>(this);
  private _lastSeq: number | null;
  private _missed = new Signal<this, number>(this);
  private _poll: Poll;
  private _reason: IEventsClient.IReason | null = null;
  private _restarted = new Signal<this, number>(this);
  private _runId: string | null = null;
  private _schemaIds: string[];
  private _socket: WebSocket | null = null;
  private _stream: Stream<this, IEventsClient.IStreamMessage>;
}

/**
 * The statics of the stream subscription.
 */
export namespace StreamSubscription {
  /**
   * The reason when the server answers its REST API but refuses the socket
   * (the status of a refused upgrade is out of a browser's sight).
   */
  export const REFUSED: IEventsClient.IReason = Object.freeze({
    kind: 'server-error',
    status: null,
    message:
      'The server answers but refuses the live stream (too many open viewers, or a proxy that does not pass WebSockets).'
  });

  /**
   * The options of a subscription.
   */
  export interface IOptions extends IEventsClient.ISubscribeOptions {
    /**
     * The server settings; JupyterLab's defaults when omitted.
     */
    serverSettings?: ServerConnection.ISettings;
    /**
     * Milliseconds before reconnecting a socket that closed (1000 by default).
     */
    reconnectInterval?: number;
    /**
     * The longest wait between reconnection attempts (30000 ms by default).
     */
    maxReconnectInterval?: number;
  }
}

namespace Private {
  /**
   * The server's first message: its run, and the last position in it.
   */
  export function isHello(
    payload: unknown
  ): payload is { run_id: string; last_seq: number } {
    return (
      typeof payload === 'object' &&
      payload !== null &&
      typeof (payload as any).run_id === 'string' &&
      typeof (payload as any).last_seq === 'number'
    );
  }

  /**
   * The server's message, before the replay, when events asked for with
   * `after` are gone (`restarted` when they were in a previous run).
   */
  export function isMissedNotice(
    payload: unknown
  ): payload is { missed: number; restarted?: boolean } {
    return (
      typeof payload === 'object' &&
      payload !== null &&
      typeof (payload as any).missed === 'number'
    );
  }

  export function isStreamMessage(
    payload: unknown
  ): payload is IEventsClient.IStreamMessage {
    return (
      typeof payload === 'object' &&
      payload !== null &&
      typeof (payload as any).seq === 'number' &&
      typeof (payload as any).event === 'object' &&
      (payload as any).event !== null
    );
  }
}
