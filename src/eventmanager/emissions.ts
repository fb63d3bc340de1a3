import type { Event, ServerConnection } from '@jupyterlab/services';
import type { IDisposable } from '@lumino/disposable';
import { Signal, Stream } from '@lumino/signaling';

import { requestAPI } from '../client/request';
import { StreamSubscription } from '../stream/subscription';
import type { IEventsClient } from '../tokens';

/**
 * What JupyterLab's own event stream delivers (jupyter_server's events, as
 * `/api/events/subscribe` sends them), taken from this extension's live
 * stream, which forwards them: it resumes after the last event on
 * reconnecting, and says when the server restarted (`subscription`).
 *
 * The live stream opens when `stream` or `subscription` is first read, not
 * before: it carries every event the server records, and a page where no
 * extension listens should not receive them all.
 */
export class ServerEmissions implements IDisposable {
  constructor(options: ServerEmissions.IOptions) {
    this._options = options;
    this._stream = new Stream(options.sender);
  }

  /**
   * The emissions, as a signal and an async iterator (reading it opens the
   * live stream).
   */
  get stream(): Stream<Event.IManager, Event.Emission> {
    this._open();
    return this._stream;
  }

  /**
   * The live stream they come from: its connection, what it missed, whether
   * the server restarted (reading it opens the live stream).
   */
  get subscription(): IEventsClient.ISubscription {
    return this._open();
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._subscription?.dispose();
    this._stream.stop();
    Signal.clearData(this);
  }

  /**
   * The live stream, opened on first use (a disposed one stays closed).
   */
  private _open(): StreamSubscription {
    if (this._subscription === null) {
      this._subscription = new StreamSubscription({
        serverSettings: this._options.serverSettings,
        reconnectInterval: this._options.reconnectInterval
      });
      if (this._isDisposed) {
        this._subscription.dispose();
      } else {
        this._subscription.stream.connect(this._onMessage, this);
      }
    }
    return this._subscription;
  }

  /**
   * Deliver the message if its schema is one of jupyter_server's, in the
   * order the messages came (a schema not yet listed waits for the list).
   */
  private _onMessage(_: unknown, message: IEventsClient.IStreamMessage): void {
    this._delivering = this._delivering.then(async () => {
      const schemaId = message.event.__schema__;
      if ((await this._isServerSchema(schemaId)) && !this.isDisposed) {
        this._stream.emit(ServerEmissions.emission(message.event));
      }
    });
  }

  /**
   * Whether the server lists the schema as jupyter_server's own; the list
   * is asked for again when a schema it did not have arrives (once for each).
   */
  private async _isServerSchema(schemaId: string): Promise<boolean> {
    if (!this._listed.has(schemaId) && !this._asked.has(schemaId)) {
      this._asked.add(schemaId);
      try {
        const reply = await requestAPI<{ schemas: IEventsClient.ISchema[] }>(
          'schemas',
          {},
          this._options.serverSettings
        );
        for (const schema of reply.schemas) {
          this._listed.set(schema.id, schema.server === true);
        }
      } catch {
        // Not known: not delivered, as the server cannot say whose it is.
        this._asked.delete(schemaId);
      }
    }
    return this._listed.get(schemaId) ?? false;
  }

  private _asked = new Set<string>();
  private _delivering = Promise.resolve();
  private _listed = new Map<string, boolean>();
  private _isDisposed = false;
  private _options: ServerEmissions.IOptions;
  private _stream: Stream<Event.IManager, Event.Emission>;
  private _subscription: StreamSubscription | null = null;
}

export namespace ServerEmissions {
  export interface IOptions {
    serverSettings: ServerConnection.ISettings;
    /**
     * The manager the stream is of.
     */
    sender: Event.IManager;
    /**
     * Milliseconds between reconnection attempts (the subscription's
     * default when omitted).
     */
    reconnectInterval?: number;
  }

  /**
   * An event as this extension's stream carries it (its envelope), as
   * jupyter_server's `/api/events/subscribe` sends it: `schema_id`, then the
   * event data. The envelope's fields and its metadata (`__id__`,
   * `__user__`, ...) all start with `__`; event data never does (the server
   * leaves such fields out when it forwards an event).
   */
  export function emission(event: IEventsClient.IEnvelope): Event.Emission {
    const emission: { [name: string]: unknown } = {
      schema_id: event.__schema__
    };
    for (const [name, value] of Object.entries(event)) {
      if (!name.startsWith('__')) {
        emission[name] = value;
      }
    }
    return emission as Event.Emission;
  }
}
