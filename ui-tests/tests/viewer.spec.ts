import { readFileSync } from 'fs';

import {
  expect,
  galata,
  IJupyterLabPageFixture,
  test
} from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

import { clientState, emitCellRuns, flush } from './client';
import { JupyterServer } from './server';
import { SCHEMA } from './sink';

const PANEL = '#jupyter-events-ext-viewer';

/**
 * Emit cell-execution events from this page through the events client
 * (what `IEventsClient` gives an extension), and send them now.
 */
async function emit(page: IJupyterLabPageFixture, cellIds: string[]) {
  await emitCellRuns(page, cellIds);
  await flush(page);
}

function execute(page: IJupyterLabPageFixture, id: string, args = {}) {
  return page.evaluate(
    ([id, args]) => window.jupyterapp.commands.execute(id as string, args),
    [id, args] as const
  );
}

/**
 * A toolbar button of the Viewer, by its command.
 */
function button(page: IJupyterLabPageFixture, command: string) {
  return page.locator(
    `${PANEL} .jp-Toolbar .jp-ToolbarButtonComponent[data-command="jupyter-events-ext:${command}"]`
  );
}

/**
 * Resolve once the number of `rows` has not changed for 1.5 s (longer than
 * the client's batch interval).
 */
async function settled(rows: Locator): Promise<void> {
  let last = -1;
  await expect
    .poll(
      async () => {
        const count = await rows.count();
        const same = count === last;
        last = count;
        return same;
      },
      { intervals: [1500], timeout: 30000 }
    )
    .toBe(true);
}

async function openViewer(page: IJupyterLabPageFixture) {
  await execute(page, 'jupyter-events-ext:open-viewer');
  const panel = page.locator(PANEL);
  await expect(panel.locator('.jp-EventViewer-connection')).toHaveText('Live');
  // The viewer opens on the server's recent history, and what the page
  // captured so far may still be on its way: send it, let the list settle,
  // then start from a clean list.
  const rows = panel.locator('.jp-EventViewer-row');
  await flush(page);
  await settled(rows);
  await button(page, 'viewer-clear').click();
  await expect(rows).toHaveCount(0);
  return panel;
}

// The Viewer's own commands (clear, pause, ...) are not captured here, so that
// the list a test cleared stays clear.
test.use({
  mockSettings: {
    ...galata.DEFAULT_SETTINGS,
    'jupyter-events-ext:plugin': {
      commandDeny: ['helpmenu:get-kernel', 'jupyter-events-ext:*']
    }
  }
});

test.describe('the Event Viewer', () => {
  test('its commands are in the palette, under "Events", and act on the Viewer', async ({
    page
  }) => {
    const panel = await openViewer(page);
    await execute(page, 'apputils:activate-command-palette');
    const palette = page.locator('#command-palette');
    await palette.locator('.lm-CommandPalette-input').fill('Event Viewer');
    const labels = palette.locator('.lm-CommandPalette-itemLabel');
    for (const label of [
      'Event Viewer',
      'Pause the Event Viewer',
      'Clear the Event Viewer'
    ]) {
      await expect(labels.getByText(label, { exact: true })).toHaveCount(1);
    }
    await palette.locator('.lm-CommandPalette-input').fill('Events');
    for (const label of [
      'Filter Events by Schema',
      'Search Events',
      'Export the Shown Events as JSON Lines',
      'Open the Events Settings'
    ]) {
      await expect(labels.getByText(label, { exact: true })).toHaveCount(1);
    }
    await expect(
      palette.locator('.lm-CommandPalette-header', { hasText: /^Events$/ })
    ).not.toHaveCount(0);

    // Run one from the palette: the toolbar button follows.
    await palette.locator('.lm-CommandPalette-input').fill('Pause the Event');
    await labels.getByText('Pause the Event Viewer', { exact: true }).click();
    const pause = button(page, 'viewer-toggle-pause');
    await expect(pause).toHaveAttribute('aria-pressed', 'true');
    // The rows as paused: opening the palette above is captured too, and may
    // have arrived before the pause (or not): whatever they are, they stay.
    const rows = panel.locator('.jp-EventViewer-row');
    const asPaused = await rows.allTextContents();
    await emit(page, ['held-1']);
    // Held back: others (the commands run here are captured too) with it.
    await expect(pause).toHaveAttribute('aria-label', /^Resume \(\d+ new\)$/, {
      timeout: 20000
    });
    await expect(rows).toHaveText(asPaused);
    await pause.click();
    await expect(pause).toHaveAttribute('aria-pressed', 'false');
    await expect(
      panel.locator('.jp-EventViewer-row', { hasText: 'cell_id=held-1' })
    ).toHaveCount(1);
  });

  test('search finds events by any field; export downloads what matches as JSON lines; copy puts an event on the clipboard', async ({
    page,
    context
  }) => {
    const panel = await openViewer(page);
    const stamp = Date.now().toString(36);
    await emit(page, [
      `needle-${stamp}-1`,
      `hay-${stamp}-1`,
      `needle-${stamp}-2`,
      `hay-${stamp}-2`
    ]);
    const rows = panel.locator('.jp-EventViewer-row', { hasText: stamp });
    await expect(rows).toHaveCount(4, { timeout: 20000 });

    await panel.locator('.jp-EventViewer-search').fill(`needle-${stamp}`);
    await expect(panel.locator('.jp-EventViewer-row')).toHaveCount(2);
    await expect(button(page, 'viewer-export')).toHaveAttribute(
      'aria-disabled',
      'false'
    );

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      button(page, 'viewer-export').click()
    ]);
    expect(download.suggestedFilename()).toMatch(/^events-\d{8}-\d{6}\.jsonl$/);
    const text = readFileSync((await download.path())!, 'utf-8');
    expect(text.endsWith('\n')).toBe(true);
    const events = text
      .trimEnd()
      .split('\n')
      .map(line => JSON.parse(line));
    expect(events.map(e => e.cell_id)).toEqual([
      `needle-${stamp}-1`,
      `needle-${stamp}-2`
    ]);
    expect(events[0]).toMatchObject({
      __schema__: SCHEMA.cellExecution,
      phase: 'started'
    });
    expect(typeof events[0].__id__).toBe('string');

    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    const row = panel.locator('.jp-EventViewer-row').first();
    await row.hover();
    await row.getByRole('button', { name: 'Copy the event as JSON' }).click();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(JSON.parse(copied)).toEqual(events[1]);

    await panel.locator('.jp-EventViewer-search').fill('');
    await expect(rows).toHaveCount(4);
  });

  test('the connection state is a status, the rows a list', async ({
    page
  }) => {
    const panel = await openViewer(page);
    await emit(page, ['aria-1']);
    await expect(panel.getByRole('status').first()).toHaveText('Live');
    const list = panel.getByRole('list', { name: 'Events, newest first' });
    await expect(
      list.getByRole('listitem').filter({ hasText: 'cell_id=aria-1' })
    ).toHaveCount(1, { timeout: 20000 });
    await expect(
      panel.getByRole('heading', { name: 'What this browser records' })
    ).toBeVisible();
    await expect(
      panel.locator('.jp-EventViewer-setting[data-setting="pathMode"]')
    ).toHaveText(
      "Paths are recorded hashed with this deployment's secret key."
    );
    await panel
      .getByRole('button', { name: 'Change these in the settings' })
      .click();
    await expect(
      page.getByRole('checkbox', { name: 'Capture UI actions' })
    ).toBeVisible();
  });

  test('opening on 10,000 buffered events', async ({ page }) => {
    test.setTimeout(300 * 1000);
    // Fill the server's stream buffer (10,000 events by default).
    const stamp = Date.now().toString(36);
    const total = 10000;
    const emitStart = Date.now();
    for (let start = 0; start < total; start += 1000) {
      await emit(
        page,
        Array.from({ length: 1000 }, (_, i) => `bulk-${stamp}-${start + i}`)
      );
    }
    const last = `bulk-${stamp}-${total - 1}`;
    // Wait until the server has the last one: its stream buffer then holds them all.
    await expect
      .poll(async () => (await clientState(page)).waiting, { timeout: 120000 })
      .toBe(0);

    console.log(
      `${total} events emitted and sent in ${Date.now() - emitStart} ms`
    );
    // For reference: how long the server's replay takes to a bare socket.
    const replay = await page.evaluate(async last => {
      const settings = window.jupyterapp.serviceManager.serverSettings;
      const url = `${settings.wsUrl}jupyter-events-ext/stream?after=0${
        settings.token ? `&token=${encodeURIComponent(settings.token)}` : ''
      }`;
      const start = performance.now();
      return new Promise<number>((resolve, reject) => {
        const socket = new WebSocket(url);
        socket.onmessage = message => {
          if (
            (message.data as string).includes(`"cell_id": "${last}"`) ||
            (message.data as string).includes(`"cell_id":"${last}"`)
          ) {
            socket.close();
            resolve(performance.now() - start);
          }
        };
        socket.onclose = () => reject(new Error('closed'));
      });
    }, last);
    console.log(
      `The server replays them to a bare socket in ${replay.toFixed(0)} ms`
    );
    const measured = await page.evaluate(async last => {
      const longTasks: number[] = [];
      const observer = new PerformanceObserver(list => {
        for (const entry of list.getEntries()) {
          longTasks.push(entry.duration);
        }
      });
      observer.observe({ type: 'longtask', buffered: false });
      const start = performance.now();
      await window.jupyterapp.commands.execute(
        'jupyter-events-ext:open-viewer'
      );
      // Open: the newest event is on screen.
      await new Promise<void>(resolve => {
        const check = () => {
          // Newer events (the open-viewer command's own) may come first.
          const rows = Array.from(
            document.querySelectorAll('.jp-EventViewer-row')
          ).slice(0, 20);
          if (rows.some(row => row.textContent!.includes(`cell_id=${last}`))) {
            resolve();
          } else {
            requestAnimationFrame(check);
          }
        };
        check();
      });
      const opened = performance.now() - start;
      await new Promise(resolve => setTimeout(resolve, 500));
      observer.disconnect();
      return {
        opened,
        rows: document.querySelectorAll('.jp-EventViewer-row').length,
        longest: Math.max(0, ...longTasks),
        longTasks: longTasks.length
      };
    }, last);
    console.log(
      `Opening the Event Viewer on ${total} buffered events: ${measured.opened.toFixed(0)} ms to the newest row; ${measured.rows} rows rendered; ${measured.longTasks} long tasks, the longest ${measured.longest.toFixed(0)} ms`
    );
    expect(measured.rows).toBeLessThanOrEqual(500);
  });
});

test.describe('a server that answers but refuses the stream', () => {
  test.setTimeout(180 * 1000);
  // No subscriber allowed: every stream upgrade is refused with 429, while
  // the REST API answers.
  const server = JupyterServer.forTests({
    args: ['--EventsExtensionApp.max_subscribers=0']
  });

  test('the Viewer says so rather than “Reconnecting…”', async ({
    page,
    waitForApplication
  }) => {
    const lab = await server().openLab(page, waitForApplication);
    await execute(lab, 'jupyter-events-ext:open-viewer');
    const connection = lab.locator(`${PANEL} .jp-EventViewer-connection`);
    await expect(connection).toHaveText(
      'The server answers but refuses the live stream (too many open viewers, or a proxy that does not pass WebSockets).',
      { timeout: 30000 }
    );
    await expect(connection).toHaveAttribute('data-state', 'server-error');
    await expect(connection).toHaveAttribute('role', 'status');
    await lab.close();
  });
});
