import type { Page } from '@playwright/test';

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
