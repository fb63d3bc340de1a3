import type { BrowserContext, Page, WebSocketRoute } from '@playwright/test';

import { SCHEMA } from './sink';

/**
 * The events client of a JupyterLab page (what `IEventsClient` gives an
 * extension), reached through Galata's access to plugin services.
 */
type LabPage = Pick<Page, 'evaluate'>;

/**
 * The endpoint the client posts events to, as a route to intercept
 * (`page.route`).
 */
export const EVENTS_ROUTE = '**/jupyter-events-ext/events*';

/**
 * The events socket the client sends batches on (`POST` being its fallback),
 * as a WebSocket route (`routeWebSocket`).
 */
export const EVENTS_SOCKET_ROUTE = /\/jupyter-events-ext\/events\/socket(\?|$)/;

/**
 * The events sockets of a page or a browser context, routed through the
 * test: passed to the server (the messages and answers seen), refused before
 * they open (as by a proxy that does not pass WebSockets, or a refused
 * upgrade), or answered by the test.
 *
 * A page takes JupyterLab's WebSocket class when it loads: install the route
 * before the page loads (or reload it).
 */
export class EventsSocketRoute {
  private constructor() {}

  /**
   * Route the events sockets of `target` from now on, passed to the server.
   */
  static async install(
    target: BrowserContext | Page
  ): Promise<EventsSocketRoute> {
    const route = new EventsSocketRoute();
    await target.routeWebSocket(EVENTS_SOCKET_ROUTE, ws => route._handle(ws));
    return route;
  }

  /**
   * What becomes of the sockets opened from now on.
   */
  get mode(): EventsSocketRoute.Mode {
    return this._mode;
  }

  /**
   * Change what becomes of the sockets opened from now on, and close those
   * open: the page opens its next socket under the new mode.
   */
  async set(mode: EventsSocketRoute.Mode): Promise<void> {
    this._mode = mode;
    await Promise.all(this._open.splice(0).map(ws => ws.close()));
  }

  /**
   * How many sockets opened (passed or answered), and how many were refused.
   */
  opened = 0;
  refused = 0;

  /**
   * Each message a page sent, with the answer it got (`null` while none).
   */
  readonly messages: { message: string; answer: string | null }[] = [];

  private async _handle(ws: WebSocketRoute): Promise<void> {
    const mode = this._mode;
    if (mode === 'refuse') {
      this.refused++;
      // Closed before it opens: what the page sees of a refused upgrade.
      await ws.close();
      return;
    }
    this.opened++;
    this._open.push(ws);
    ws.onClose(() => {
      this._open = this._open.filter(open => open !== ws);
      void server?.close();
    });
    const waiting: { message: string; answer: string | null }[] = [];
    const server = mode === 'pass' ? ws.connectToServer() : null;
    ws.onMessage(data => {
      const entry = { message: data.toString(), answer: null };
      this.messages.push(entry);
      if (server) {
        waiting.push(entry);
        server.send(data);
      } else if (mode !== 'pass') {
        entry.answer = mode.answer(entry.message);
        ws.send(entry.answer!);
      }
    });
    server?.onMessage(data => {
      const entry = waiting.shift();
      if (entry) {
        entry.answer = data.toString();
      }
      ws.send(data);
    });
    server?.onClose((code, reason) => {
      this._open = this._open.filter(open => open !== ws);
      void ws.close({ code, reason });
    });
  }

  private _mode: EventsSocketRoute.Mode = 'pass';
  private _open: WebSocketRoute[] = [];
}

export namespace EventsSocketRoute {
  /**
   * Passed to the server, refused before opening, or answered by the test.
   */
  export type Mode =
    'pass' | 'refuse' | { answer: (message: string) => string };
}

/**
 * The client ids in a batch (`POST events` body or events socket message).
 */
export function batchIds(body: string | null): string[] {
  const batch = JSON.parse(body ?? '{}');
  return (batch.events ?? [batch]).map((event: { id: string }) => event.id);
}

/**
 * The client's state (`IEventsClient.IState`), as far as the tests read it.
 */
export interface IClientState {
  connected: boolean;
  waiting: number;
  reason: { kind: string; message: string } | null;
}

export function clientState(page: LabPage): Promise<IClientState> {
  return page.evaluate(async () => {
    const client = await (window as any).galata.getPlugin(
      'jupyter-events-ext:plugin'
    );
    return client.state;
  });
}

/**
 * Send what the client holds now rather than at the end of its batch interval.
 */
export function flush(page: LabPage): Promise<void> {
  return page.evaluate(async () => {
    const client = await (window as any).galata.getPlugin(
      'jupyter-events-ext:plugin'
    );
    await client.flush();
  });
}

/**
 * Emit a cell-execution event (`started`) for each of these cell ids, as an
 * extension would; they are sent at the end of the batch interval.
 */
export function emitCellRuns(page: LabPage, cellIds: string[]): Promise<void> {
  return page.evaluate(
    async ([schema, ids]) => {
      const client = await (window as any).galata.getPlugin(
        'jupyter-events-ext:plugin'
      );
      await Promise.all(
        (ids as string[]).map(id =>
          client.emit(schema, { phase: 'started', cell_id: id })
        )
      );
    },
    [SCHEMA.cellExecution, cellIds] as const
  );
}
