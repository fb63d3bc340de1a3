import { createServer, IncomingMessage, Server, ServerResponse } from 'http';
import { AddressInfo } from 'net';

import { ServerConnection } from '@jupyterlab/services';
import { WebSocket, WebSocketServer } from 'ws';

import type { IEventsClient } from '../tokens';

/**
 * A loopback HTTP and WebSocket server that speaks the server extension's
 * contract (`GET schemas`, `POST events`, `WS events/socket`, `WS stream`),
 * records what it accepts once per client id, and can be told to fail.
 */
export class FakeServer {
  private constructor(
    private readonly _server: Server,
    private readonly _sockets: WebSocketServer,
    readonly baseUrl: string
  ) {}

  /**
   * Start a server on a free loopback port.
   */
  static start(
    schemas: IEventsClient.ISchema[] = SCHEMAS
  ): Promise<FakeServer> {
    return new Promise(resolve => {
      const server = createServer();
      const sockets = new WebSocketServer({ noServer: true });
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        const fake = new FakeServer(
          server,
          sockets,
          `http://127.0.0.1:${port}/a%40b/`
        );
        fake.schemas = schemas;
        server.on('request', (req, res) => fake._handle(req, res));
        server.on('upgrade', (req, socket, head) => {
          const url = new URL(req.url ?? '', 'http://localhost');
          if (url.pathname.endsWith('/jupyter-events-ext/events/socket')) {
            const refusal =
              fake.refuseEventSockets ??
              (url.searchParams.get('token') === 'secret' ? null : 403);
            if (refusal !== null) {
              fake.refusedEventSockets++;
              socket.end(
                `HTTP/1.1 ${refusal} Refused\r\nContent-Length: 0\r\n\r\n`
              );
              return;
            }
            sockets.handleUpgrade(req, socket, head, ws =>
              fake._acceptEventSocket(ws, req.url ?? '')
            );
            return;
          }
          if (fake.refuseStreams !== null) {
            socket.end(
              `HTTP/1.1 ${fake.refuseStreams} Refused\r\nContent-Length: 0\r\n\r\n`
            );
            return;
          }
          sockets.handleUpgrade(req, socket, head, ws => {
            fake.streamUrls.push(req.url ?? '');
            fake.streams.push(ws);
          });
        });
        resolve(fake);
      });
    });
  }

  /**
   * What the server answers to `POST events`, and to each message on the
   * events socket:
   * - `ok`: records and answers as the contract says
   * - `unavailable`: 503, records nothing
   * - `lost`: records, then drops the connection (or closes the socket)
   *   before answering
   * - `refused`: drops the connection (closes the socket) without reading
   *   or recording
   */
  mode: 'ok' | 'unavailable' | 'lost' | 'refused' = 'ok';

  /**
   * Largest batch accepted (a larger one gets 413).
   */
  maxBatch = Infinity;

  /**
   * Answer a request of this path (after `/jupyter-events-ext/`) before the
   * contract does: a status and a body (JSON unless told), or `hang` to never
   * answer (until `release`); nothing is recorded. A message on the events
   * socket is asked about as `('events', 'POST')`, and answered with the
   * status and the body's fields (a body that is not a JSON object as the
   * `message`): what the server would answer on the socket to that POST.
   */
  override: (
    route: string,
    method: string
  ) =>
    | { status: number; body: string; contentType?: string }
    | 'hang'
    | undefined = () => undefined;

  /**
   * The status a stream upgrade is refused with, `null` to accept it.
   */
  refuseStreams: number | null = null;

  /**
   * The status an events socket upgrade is refused with, `null` to accept
   * it (when it has the token).
   */
  refuseEventSockets: number | null = null;

  /**
   * Accept events socket upgrades, then close each socket at its first
   * message, unread: a proxy that passes the upgrade but not the messages.
   */
  dropEventSockets = false;

  /**
   * How many events socket upgrades were refused.
   */
  refusedEventSockets = 0;

  /**
   * The largest message the events socket reads; a larger one closes it
   * with code 1009, as the server does beyond twice its `max_body_size`.
   */
  maxMessageBytes = Infinity;

  /**
   * Milliseconds `POST events` (or a socket message) waits before answering.
   */
  delay = 0;

  /**
   * The most `POST events` requests (or socket messages) in flight at once.
   */
  maxInFlight = 0;

  /**
   * The schemas `GET schemas` lists.
   */
  schemas: IEventsClient.ISchema[] = [];

  /**
   * The events recorded, once per id, in arrival order.
   */
  readonly recorded: IEventsClient.IRecord[] = [];

  /**
   * Every batch received (`POST events` body or socket message), recorded or
   * not, and how it came.
   */
  readonly posts: {
    events: IEventsClient.IRecord[];
    transport: 'post' | 'socket';
  }[] = [];

  /**
   * The bodies of jupyter_server's `POST /api/events`, in arrival order
   * (each answered 204).
   */
  readonly apiEvents: Record<string, unknown>[] = [];

  /**
   * How many times each id arrived.
   */
  readonly arrivals = new Map<string, number>();

  /**
   * The events sockets accepted, in order, open or not, and their URLs.
   */
  readonly eventSockets: WebSocket[] = [];
  readonly eventSocketUrls: string[] = [];

  /**
   * The open stream sockets and the URLs they asked for.
   */
  readonly streams: WebSocket[] = [];
  readonly streamUrls: string[] = [];

  /**
   * Connection settings for this server.
   */
  get settings(): ServerConnection.ISettings {
    return ServerConnection.makeSettings({
      baseUrl: this.baseUrl,
      wsUrl: this.baseUrl.replace(/^http/, 'ws'),
      token: 'secret'
    });
  }

  /**
   * Resolve once `count` events are recorded.
   */
  async waitFor(count: number, timeout = 5000): Promise<void> {
    const start = Date.now();
    while (this.recorded.length < count) {
      if (Date.now() - start > timeout) {
        throw new Error(
          `${this.recorded.length} of ${count} events recorded after ${timeout} ms`
        );
      }
      await new Promise(resolve => setTimeout(resolve, 10));
    }
  }

  /**
   * Answer the requests left hanging, as `override` now says.
   */
  release(): void {
    for (const answer of this._hanging.splice(0)) {
      answer(false);
    }
  }

  /**
   * The server run's id, as `GET info` gives it.
   */
  runId = 'run-1';

  /**
   * The deployment's key for hashing paths, as `GET info` gives it.
   */
  pathHashKey = 'ab'.repeat(32);

  /**
   * The routes answered so far (those a test waits for).
   */
  answered: string[] = [];

  close(): Promise<void> {
    for (const answer of this._hanging.splice(0)) {
      answer(true);
    }
    for (const ws of [...this.streams, ...this.eventSockets]) {
      ws.terminate();
    }
    this._sockets.close();
    this._server.closeAllConnections();
    return new Promise(resolve => this._server.close(() => resolve()));
  }

  private async _handle(req: IncomingMessage, res: ServerResponse) {
    const path = new URL(req.url ?? '', 'http://localhost').pathname;
    const route = path.split('/jupyter-events-ext/')[1] ?? '';
    const override = this.override(route, req.method ?? 'GET');
    if (override === 'hang') {
      this._hanging.push(drop =>
        drop ? res.destroy() : void this._handle(req, res)
      );
      return;
    }
    if (override) {
      res.writeHead(override.status, {
        'Content-Type': override.contentType ?? 'application/json'
      });
      res.end(override.body);
      return;
    }
    if (req.headers.authorization !== 'token secret') {
      return this._reply(res, 403, { message: 'Forbidden' });
    }
    if (route === 'info' && req.method === 'GET') {
      this._reply(res, 200, {
        run_id: this.runId,
        path_hash_key: this.pathHashKey
      });
      this.answered.push(route);
      return;
    }
    if (path.endsWith('/api/events') && req.method === 'POST') {
      let text = '';
      for await (const chunk of req) {
        text += chunk;
      }
      this.apiEvents.push(JSON.parse(text));
      res.writeHead(204);
      res.end();
      return;
    }
    if (path.endsWith('/jupyter-events-ext/schemas') && req.method === 'GET') {
      return this._reply(res, 200, { schemas: this.schemas });
    }
    if (!(
      path.endsWith('/jupyter-events-ext/events') && req.method === 'POST'
    )) {
      return this._reply(res, 404, { message: 'Not found' });
    }
    if (this.mode === 'refused') {
      req.socket.destroy();
      return;
    }
    let text = '';
    for await (const chunk of req) {
      text += chunk;
    }
    const answer = await this._ingest(text, 'post');
    if (answer === 'lost') {
      req.socket.destroy();
      return;
    }
    if (answer.status === 204) {
      res.writeHead(204);
      res.end();
      return;
    }
    this._reply(res, answer.status, answer.body);
  }

  /**
   * An events socket: each message is answered in turn, the next read once
   * the one before is answered, as the server does.
   */
  private _acceptEventSocket(ws: WebSocket, url: string): void {
    this.eventSocketUrls.push(url);
    this.eventSockets.push(ws);
    let turn = Promise.resolve();
    ws.on('message', (data: Buffer) => {
      turn = turn.then(() => this._onEventMessage(ws, data.toString()));
    });
  }

  private async _onEventMessage(ws: WebSocket, text: string): Promise<void> {
    if (ws.readyState !== WebSocket.OPEN) {
      return;
    }
    if (this.dropEventSockets) {
      ws.terminate();
      return;
    }
    if (Buffer.byteLength(text) > this.maxMessageBytes) {
      ws.close(1009, 'Message too big');
      return;
    }
    const override = this.override('events', 'POST');
    if (override === 'hang') {
      // The socket waits for this answer, as the server's does.
      return new Promise(resolve =>
        this._hanging.push(drop => {
          resolve(drop ? undefined : this._onEventMessage(ws, text));
        })
      );
    }
    if (override) {
      let fields: Record<string, unknown> = {};
      try {
        const parsed = JSON.parse(override.body);
        fields =
          typeof parsed === 'object' && parsed && !Array.isArray(parsed)
            ? parsed
            : { message: override.body };
      } catch {
        fields = override.body ? { message: override.body } : {};
      }
      ws.send(JSON.stringify({ ...fields, status: override.status }));
      return;
    }
    if (this.mode === 'refused') {
      ws.terminate();
      return;
    }
    const answer = await this._ingest(text, 'socket');
    if (answer === 'lost') {
      ws.terminate();
      return;
    }
    ws.send(JSON.stringify({ status: answer.status, ...answer.body }));
  }

  /**
   * Record a batch as `POST events` and the events socket both do: the
   * status and body of the answer, or `lost` when the mode says to give
   * none.
   */
  private async _ingest(
    text: string,
    transport: 'post' | 'socket'
  ): Promise<{ status: number; body?: Record<string, unknown> } | 'lost'> {
    const body = JSON.parse(text);
    const events: IEventsClient.IRecord[] = body.events ?? [body];
    this.posts.push({ events, transport });
    this._inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this._inFlight);
    if (this.delay) {
      await new Promise(resolve => setTimeout(resolve, this.delay));
    }
    this._inFlight--;
    if (this.mode === 'unavailable') {
      return { status: 503, body: { message: 'Unavailable' } };
    }
    if (events.length > this.maxBatch) {
      return {
        status: 413,
        body: { message: `A batch holds at most ${this.maxBatch} events.` }
      };
    }
    const reply = { accepted: 0, duplicates: 0, rejected: [] as any[] };
    events.forEach((event, index) => {
      this.arrivals.set(event.id, (this.arrivals.get(event.id) ?? 0) + 1);
      if (!this.schemas.some(schema => schema.id === event.schema_id)) {
        reply.rejected.push({
          index,
          message: `Unknown schema "${event.schema_id}".`
        });
      } else if (this.recorded.some(recorded => recorded.id === event.id)) {
        reply.duplicates++;
      } else {
        this.recorded.push(event);
        reply.accepted++;
      }
    });
    if (this.mode === 'lost') {
      return 'lost';
    }
    return { status: 200, body: reply };
  }

  /**
   * The answers held back by `hang`: each answers (or, with `drop`, gives up).
   */
  private _hanging: ((drop: boolean) => void)[] = [];
  private _inFlight = 0;

  private _reply(res: ServerResponse, status: number, body: unknown) {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  }
}

/**
 * A browser schema with the constructs the UI-action schemas use.
 */
export const CELL_SCHEMA: IEventsClient.ISchema = {
  id: 'https://events.jupyter.org/jupyter_events_ext/cell-execution/v1',
  version: '1',
  client: true,
  schema: {
    $id: 'https://events.jupyter.org/jupyter_events_ext/cell-execution/v1',
    version: '1',
    title: 'Notebook cell execution',
    description: 'A notebook code cell started or finished executing.',
    type: 'object',
    additionalProperties: false,
    required: ['phase'],
    properties: {
      phase: { enum: ['started', 'finished'] },
      cell_id: { type: 'string' },
      execution_count: { type: ['integer', 'null'], minimum: 0 },
      success: { type: 'boolean' },
      duration_ms: { type: 'number', minimum: 0 }
    },
    if: { properties: { phase: { const: 'started' } } },
    then: { not: { anyOf: [{ required: ['success'] }] } }
  }
};

/**
 * A schema only the server may emit.
 */
export const SERVER_SCHEMA: IEventsClient.ISchema = {
  id: 'https://events.jupyter.org/jupyter_server/contents_service/v1',
  version: 1,
  client: false,
  server: true,
  schema: {
    $id: 'https://events.jupyter.org/jupyter_server/contents_service/v1',
    version: 1,
    type: 'object',
    properties: { action: { type: 'string' } }
  }
};

export const SCHEMAS = [CELL_SCHEMA, SERVER_SCHEMA];
