import { Signal, Stream } from '@lumino/signaling';

import type { IEventsClient } from '../tokens';
import { CELL_SCHEMA, SERVER_SCHEMA } from './fakeserver';

/**
 * The side of the events client the Event Viewer uses, with a subscription
 * a test feeds as the server's stream would.
 */

export const COMMAND =
  'https://events.jupyter.org/jupyter_events_ext/command/v1';

export class FakeSubscription implements IEventsClient.ISubscription {
  connected = false;
  connectionChanged = new Signal<this, boolean>(this);
  reason: IEventsClient.IReason | null = null;
  lastSeq: number | null = null;
  runId: string | null = null;
  missed = new Signal<this, number>(this);
  restarted = new Signal<this, number>(this);
  stream = new Stream<this, IEventsClient.IStreamMessage>(this);
  isDisposed = false;
  dispose() {
    this.isDisposed = true;
  }
}

/**
 * The client's side the viewer uses, with a subscription a test feeds.
 */
export class FakeClient {
  subscription = new FakeSubscription();
  state: IEventsClient.IState = {
    connected: true,
    reason: null,
    durable: true,
    waiting: 0,
    dropped: 0,
    rejected: 0,
    eventManager: { queued: 0, posted: 0 },
    transport: null
  };
  stateChanged = new Signal<this, IEventsClient.IState>(this);
  subscribe() {
    return this.subscription;
  }
  listSchemas() {
    return Promise.resolve([CELL_SCHEMA, SERVER_SCHEMA]);
  }
}

export const NOW = new Date('2026-11-23T18:40:00.000Z');
let seq = 0;

export function send(
  client: FakeClient,
  schema: string,
  data: object,
  timestamp = new Date(NOW.getTime() - 60000 + seq * 1000).toISOString()
) {
  client.subscription.stream.emit({
    seq: ++seq,
    event: {
      __timestamp__: timestamp,
      __schema__: schema,
      __schema_version__: '1',
      __metadata_version__: 1,
      ...data
    }
  });
}
