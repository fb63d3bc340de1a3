import { expect, test } from '@jupyterlab/galata';

import { clientState, emitCellRuns } from './client';
import { JupyterServer } from './server';
import { SCHEMA } from './sink';

test.describe('a server restart', () => {
  test.setTimeout(240 * 1000);
  const server = JupyterServer.forTests({ sink: true });

  test('events that wait arrive once after it, and the Event Viewer reports the gap', async ({
    page,
    waitForApplication
  }) => {
    const lab = await server().openLab(page, waitForApplication);
    const sink = server().sink();
    const cellIds = (prefix: string) =>
      sink
        .events(SCHEMA.cellExecution)
        .map(e => e.cell_id as string)
        .filter(id => id.startsWith(prefix));

    await lab.evaluate(() =>
      window.jupyterapp.commands.execute('jupyter-events-ext:open-viewer')
    );
    const viewer = lab.locator('.jp-EventViewer');
    const connection = viewer.locator('.jp-EventViewer-connection');
    await expect(connection).toHaveText('Live');
    const rows = (prefix: string) =>
      viewer.locator(`.jp-EventViewer-row:has-text("cell_id=${prefix}")`);

    await emitCellRuns(lab, ['before-1', 'before-2']);
    await expect(rows('before-')).toHaveCount(2, { timeout: 20000 });

    await server().stop();
    await expect(connection).not.toHaveText('Live', { timeout: 20000 });
    await emitCellRuns(lab, ['down-1', 'down-2', 'down-3']);
    await expect
      .poll(async () => (await clientState(lab)).connected, { timeout: 30000 })
      .toBe(false);
    expect((await clientState(lab)).waiting).toBeGreaterThanOrEqual(3);

    await server().restart();
    await expect
      .poll(() => cellIds('down-').sort(), { timeout: 60000 })
      .toEqual(['down-1', 'down-2', 'down-3']);
    await expect
      .poll(async () => (await clientState(lab)).waiting, { timeout: 30000 })
      .toBe(0);
    await lab.waitForTimeout(2000);
    // Each once, before and after the restart.
    expect(cellIds('before-').sort()).toEqual(['before-1', 'before-2']);
    expect(cellIds('down-').sort()).toEqual(['down-1', 'down-2', 'down-3']);
    const ids = sink
      .events()
      .map(e => e.__id__)
      .filter(Boolean);
    expect(ids.length).toBe(new Set(ids).size);

    // The Viewer resumed in the new run: nothing of it skipped, the gap said.
    await expect(connection).toHaveText(/^Live · the server restarted/, {
      timeout: 60000
    });
    await expect(rows('down-')).toHaveCount(3);
    await expect(rows('before-')).toHaveCount(2);
    await lab.close();
  });
});
