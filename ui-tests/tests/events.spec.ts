import * as path from 'path';

import {
  expect,
  galata,
  IJupyterLabPageFixture,
  test
} from '@jupyterlab/galata';

import {
  clientState,
  EVENTS_ROUTE,
  EVENTS_SOCKET_ROUTE,
  EventsSocketRoute,
  flush
} from './client';
import { SCHEMA, Sink } from './sink';

async function openViewer(page: IJupyterLabPageFixture) {
  await page.evaluate(() =>
    window.jupyterapp.commands.execute('jupyter-events-ext:open-viewer')
  );
  // The panel: the Viewer and its toolbar (the filter is there).
  const viewer = page.locator('#jupyter-events-ext-viewer');
  await expect(viewer.locator('.jp-EventViewer')).toBeVisible();
  await expect(viewer.locator('.jp-EventViewer-connection')).toHaveText('Live');
  // The viewer opens on the server's recent history: start from a clean list.
  await viewer
    .locator(
      '.jp-ToolbarButtonComponent[data-command="jupyter-events-ext:viewer-clear"]'
    )
    .click();
  await expect(viewer.locator('.jp-EventViewer-row')).toHaveCount(0);
  return viewer;
}

async function capturedSetting(page: IJupyterLabPageFixture) {
  return page.evaluate(async () => {
    const registry = await (window as any).galata.getPlugin(
      '@jupyterlab/apputils-extension:settings'
    );
    return (await registry.get('jupyter-events-ext:plugin', 'capture'))
      .composite;
  });
}

test.describe('cell execution', () => {
  test('running cells records their events, which the Event Viewer shows', async ({
    page
  }) => {
    const sink = new Sink();
    const viewer = await openViewer(page);

    await page.notebook.createNew('cells.ipynb');
    await page.notebook.setCell(0, 'code', '1 + 1');
    await page.notebook.addCell('code', '1 / 0');
    await page.notebook.run();

    await expect
      .poll(() => sink.events(SCHEMA.cellExecution).length, { timeout: 20000 })
      .toBe(4);
    const events = sink.events(SCHEMA.cellExecution);
    const finished = events.filter(e => e.phase === 'finished');
    expect(events.filter(e => e.phase === 'started')).toHaveLength(2);
    expect(finished[0]).toMatchObject({
      __schema_version__: '1',
      success: true,
      execution_count: 1,
      kernel_name: 'python3',
      path_mode: 'hashed'
    });
    expect(finished[0].notebook).toMatch(/^[0-9a-f]{64}$/);
    expect(finished[0].duration_ms).toBeGreaterThanOrEqual(0);
    expect(finished[1]).toMatchObject({
      success: false,
      error_name: 'ZeroDivisionError'
    });
    for (const event of events) {
      expect(Object.keys(event)).not.toContain('source');
      expect(Object.keys(event)).not.toContain('outputs');
      expect(JSON.stringify(event)).not.toContain('1 / 0');
    }

    await page.activity.activateTab('Event Viewer');
    const rows = viewer.locator(
      `.jp-EventViewer-row[data-schema="${SCHEMA.cellExecution}"]`
    );
    await expect(rows).toHaveCount(4);
    await expect(rows.first().locator('.jp-EventViewer-text')).toContainText(
      'error_name=ZeroDivisionError'
    );
    await rows.first().locator('summary').click();
    await expect(rows.first().locator('.jp-EventViewer-json')).toContainText(
      '"phase": "finished"'
    );
  });
});

test.describe('settings', () => {
  test('turning capture off in the Settings Editor stops it at once; on resumes', async ({
    page
  }) => {
    await page.notebook.createNew('toggle.ipynb');
    await page.notebook.setCell(0, 'code', '40 + 2');

    await page.evaluate(() =>
      window.jupyterapp.commands.execute('settingeditor:open', {
        query: 'Events'
      })
    );
    const capture = page.getByRole('checkbox', { name: 'Capture UI actions' });
    await capture.uncheck();
    await expect.poll(() => capturedSetting(page)).toBe(false);
    // What was captured before the switch is still delivered: start after it.
    await flush(page);
    let sink = new Sink();

    await page.notebook.activate('toggle.ipynb');
    await page.notebook.run();
    await page.notebook.save();
    await flush(page);
    await page.waitForTimeout(1500);
    expect(
      sink
        .events()
        .filter(e => e.__schema__.includes('/jupyter_events_ext/'))
        .map(e => e.__schema__)
    ).toEqual([]);

    await page.activity.activateTab('Settings');
    await capture.check();
    await expect.poll(() => capturedSetting(page)).toBe(true);
    sink = new Sink();
    await page.notebook.activate('toggle.ipynb');
    await page.notebook.run();
    await expect
      .poll(
        () =>
          sink
            .events(SCHEMA.cellExecution)
            .map(e => e.phase)
            .join(),
        { timeout: 20000 }
      )
      .toBe('started,finished');
  });
});

test.describe('the token', () => {
  test('an invalid event emitted by an extension is rejected with a clear message and never sent', async ({
    page
  }) => {
    const sink = new Sink();
    // What goes by POST, and on the events socket (which opens in sight
    // once the page loads again).
    const bodies: string[] = [];
    page.on('websocket', ws => {
      if (EVENTS_SOCKET_ROUTE.test(ws.url())) {
        ws.on('framesent', frame => bodies.push(frame.payload.toString()));
      }
    });
    await page.reload();
    page.on('request', request => {
      if (request.url().includes('/jupyter-events-ext/events')) {
        bodies.push(request.postData() ?? '');
      }
    });

    const outcome = await page.evaluate(async id => {
      const client = await (window as any).galata.getPlugin(
        'jupyter-events-ext:plugin'
      );
      const invalid = await client
        .emit(id, { phase: 'paused', cell_id: 'from-extension-invalid' })
        .then(
          () => 'resolved',
          (error: Error) => `${error.name}: ${error.message}`
        );
      await client.emit(id, { phase: 'started', cell_id: 'from-extension' });
      await client.flush();
      return invalid;
    }, SCHEMA.cellExecution);

    expect(outcome).toBe(
      `EventValidationError: Invalid "${SCHEMA.cellExecution}" event (version 1): data/phase must be equal to one of the allowed values.`
    );
    await expect
      .poll(() => sink.events(SCHEMA.cellExecution).map(e => e.cell_id))
      .toContain('from-extension');
    expect(JSON.stringify(sink.events())).not.toContain(
      'from-extension-invalid'
    );
    expect(bodies.join('\n')).toContain('from-extension');
    expect(bodies.join('\n')).not.toContain('from-extension-invalid');
  });
});

test.describe('delivery', () => {
  test.setTimeout(180 * 1000);

  test('with the events endpoint unreachable the UI goes on; every event arrives once when it is back, across a reload', async ({
    page
  }) => {
    // Unreachable both ways: the events socket and its POST fallback. The
    // page takes the routed WebSocket class when it loads.
    const socket = await EventsSocketRoute.install(page.context());
    await socket.set('refuse');
    await page.reload();
    const sink = new Sink();
    await page.context().route(EVENTS_ROUTE, route => route.abort());

    await page.notebook.createNew('offline.ipynb');
    await page.notebook.setCell(0, 'code', '2 + 2');
    await page.notebook.run();
    expect(await page.notebook.getCellTextOutput(0)).toEqual(['4']);
    await page.notebook.save();
    await expect
      .poll(async () => (await clientState(page)).connected, { timeout: 20000 })
      .toBe(false);
    const waitingBefore = (await clientState(page)).waiting;
    expect(waitingBefore).toBeGreaterThan(0);
    expect(sink.events(SCHEMA.cellExecution)).toEqual([]);

    // Writes to IndexedDB are gathered over 50 ms; `emit` resolves once its
    // event is stored. A page that leaves sooner may lose the last events (a
    // browser may drop the transaction a leaving page starts): give the
    // "saved" event, emitted a moment ago, time to be stored.
    await page.waitForTimeout(500);
    // The restored layout shows the notebook, not the launcher Galata waits for.
    await page.reload({ waitForIsReady: false });
    await page.locator('#jupyterlab-splash').waitFor({ state: 'detached' });
    // The new page loaded the waiting events from IndexedDB. (Leaving the page
    // also posted them with `keepalive`, a request Playwright cannot intercept
    // during unload: if the server got them then, it ignores them when they
    // are sent again below, by their ids.)
    expect((await clientState(page)).waiting).toBeGreaterThanOrEqual(
      waitingBefore
    );
    if (!(await page.notebook.isOpen('offline.ipynb'))) {
      await page.notebook.openByPath('offline.ipynb');
    }
    await page.notebook.activate('offline.ipynb');
    // Restored after a reload, the notebook may render its first cell twice for a
    // moment (the windowed list settling); Galata's cell helpers need it once.
    await expect(
      page
        .getByRole('main')
        .locator(
          '.jp-NotebookPanel-notebook .jp-Cell[data-windowed-list-index="0"]'
        )
    ).toHaveCount(1, { timeout: 15000 });
    await page.notebook.setCell(0, 'code', '3 + 3');
    await page.notebook.run();
    expect(await page.notebook.getCellTextOutput(0)).toEqual(['6']);
    await page.waitForTimeout(1500);
    // At most the two events of before the reload (see above), none of after it.
    expect(sink.events(SCHEMA.cellExecution).length).toBeLessThanOrEqual(2);

    expect(socket.refused).toBeGreaterThan(0);
    expect(socket.messages).toEqual([]);
    await page.context().unroute(EVENTS_ROUTE);
    await socket.set('pass');
    await expect
      .poll(() => sink.events(SCHEMA.cellExecution).length, { timeout: 60000 })
      .toBe(4);
    await expect
      .poll(async () => (await clientState(page)).waiting, { timeout: 30000 })
      .toBe(0);
    await page.waitForTimeout(2000);

    const events = sink.events(SCHEMA.cellExecution);
    expect(events).toHaveLength(4);
    // Each recorded once: every event carries its client id, which the server
    // records as __id__.
    expect(new Set(events.map(e => e.__id__)).size).toBe(4);
    expect(events.every(e => typeof e.__id__ === 'string')).toBe(true);
    expect(events.map(e => e.phase)).toEqual([
      'started',
      'finished',
      'started',
      'finished'
    ]);
    expect(events.map(e => e.success ?? null)).toEqual([
      null,
      true,
      null,
      true
    ]);
    const documents = sink
      .events(SCHEMA.document)
      .filter(e => e.action === 'saved');
    expect(documents).toHaveLength(1);
  });
});

test.describe('the Event Viewer', () => {
  test('its filter shows only the chosen schema', async ({ page }) => {
    const viewer = await openViewer(page);
    await page.notebook.createNew('filter.ipynb');
    await page.notebook.setCell(0, 'code', '"filtered"');
    await page.notebook.run();
    await flush(page);
    await page.activity.activateTab('Event Viewer');

    const rows = viewer.locator('.jp-EventViewer-row');
    const cellRows = viewer.locator(
      `.jp-EventViewer-row[data-schema="${SCHEMA.cellExecution}"]`
    );
    await expect(cellRows).toHaveCount(2);
    const schemas = await rows.evaluateAll(nodes =>
      nodes.map(node => (node as HTMLElement).dataset.schema)
    );
    expect(new Set(schemas).size).toBeGreaterThan(1);

    await viewer
      .locator('.jp-EventViewer-filter')
      .selectOption(SCHEMA.cellExecution);
    const visible = viewer.locator('.jp-EventViewer-row:visible');
    await expect(visible).toHaveCount(2);
    expect(
      await visible.evaluateAll(nodes =>
        nodes.map(node => (node as HTMLElement).dataset.schema)
      )
    ).toEqual([SCHEMA.cellExecution, SCHEMA.cellExecution]);

    await viewer.locator('.jp-EventViewer-filter').selectOption('');
    // Every row shows again, those that arrived meanwhile (e.g. the server's)
    // too: the filter leaves rows out of the list rather than hiding them.
    await expect
      .poll(() => visible.count())
      .toBeGreaterThanOrEqual(schemas.length);
    expect(
      await rows.evaluateAll(
        nodes =>
          nodes.filter(node => (node as HTMLElement).offsetParent === null)
            .length
      )
    ).toBe(0);
  });

  test.describe('without the first-run notice', () => {
    // The notice (consent "notice", the default) would sit over the screenshot.
    test.use({
      mockSettings: {
        ...galata.DEFAULT_SETTINGS,
        'jupyter-events-ext:plugin': { consent: 'none' }
      }
    });

    test('screenshot for the docs', async ({ page }) => {
      await page.setViewportSize({ width: 1280, height: 760 });
      const viewer = await openViewer(page);
      await page.notebook.createNew('analysis.ipynb');
      await page.notebook.setCell(0, 'code', 'import math\nmath.pi');
      await page.notebook.addCell('code', 'math.sqrt(-1)');
      await page.notebook.run();
      await page.notebook.save();
      await flush(page);
      await page.activity.activateTab('Event Viewer');
      await expect(
        viewer.locator(
          `.jp-EventViewer-row[data-schema="${SCHEMA.cellExecution}"]`
        )
      ).toHaveCount(4);
      await viewer
        .locator(`.jp-EventViewer-row[data-schema="${SCHEMA.cellExecution}"]`)
        .first()
        .locator('summary')
        .click();
      await viewer
        .locator('.jp-EventViewer-schemaCard')
        .nth(1)
        .locator('summary')
        .click();
      await page.evaluate(() =>
        window.jupyterapp.commands.execute('application:toggle-left-area')
      );
      await page.locator('#jp-main-dock-panel').screenshot({
        path: path.resolve(__dirname, '../../docs/event-viewer.png')
      });
    });
  });
});
