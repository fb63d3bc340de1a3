import {
  expect,
  galata,
  IJupyterLabPageFixture,
  test
} from '@jupyterlab/galata';
import type { Request } from '@playwright/test';

import {
  batchIds,
  clientState,
  EVENTS_ROUTE,
  EventsSocketRoute,
  flush
} from './client';
import { SCHEMA, Sink } from './sink';

/**
 * The client ids in a `POST events` request.
 */
function postedIds(request: Request): string[] {
  const body = JSON.parse(request.postData() ?? '{}');
  return (body.events ?? [body]).map((event: { id: string }) => event.id);
}

async function runCell(
  page: IJupyterLabPageFixture,
  folder: string,
  name: string,
  source: string,
  output: string
) {
  // A tab in the background hardly renders: bring it to the front first.
  await page.bringToFront();
  if (await page.notebook.isOpen(name)) {
    await page.notebook.activate(name);
  } else {
    // The command, not the menu: a menu that opens late misses the click.
    await page.evaluate(async path => {
      const widget = await window.jupyterapp.commands.execute(
        'docmanager:new-untitled',
        { path, type: 'notebook' }
      );
      await window.jupyterapp.commands.execute('docmanager:open', {
        path: widget.path,
        kernel: { name: 'python3' }
      });
    }, folder);
    await expect.poll(() => page.notebook.isAnyActive()).toBe(true);
  }
  await page.notebook.setCell(0, 'code', source);
  await page.notebook.run();
  expect(await page.notebook.getCellTextOutput(0)).toEqual([output]);
}

test.describe('two tabs', () => {
  test.setTimeout(240 * 1000);

  test('both run cells offline, one reloads offline: each event is recorded once and sent in one request or socket message only', async ({
    page,
    baseURL,
    tmpPath,
    waitForApplication
  }) => {
    // What the page sent while loading is recorded, and no longer stored, so
    // that the reload below sends none of it again before the sink's window.
    await flush(page);
    const sink = new Sink();
    const context = page.context();
    const attempted = new Set<string>();
    const answered: string[][] = [];
    const isPost = (request: Request) =>
      request.method() === 'POST' &&
      request.url().includes('/jupyter-events-ext/events');
    context.on('request', request => {
      if (isPost(request)) {
        postedIds(request).forEach(id => attempted.add(id));
      }
    });
    // Only requests that reached the server and were answered count as sent.
    context.on('requestfinished', request => {
      if (isPost(request)) {
        answered.push(postedIds(request));
      }
    });
    await context.route(EVENTS_ROUTE, route => route.abort());
    // The events socket refused too; the first tab takes the routed
    // WebSocket class when it loads again.
    const socket = await EventsSocketRoute.install(context);
    await socket.set('refuse');
    await page.reload();

    // A workspace of its own: JupyterLab moves a second tab off one in use.
    const second = await galata.initTestPage(
      '/lab/workspaces/second',
      true,
      baseURL!,
      true,
      galata.DEFAULT_SETTINGS,
      true,
      true,
      await context.newPage(),
      new Map(),
      new Map(),
      tmpPath,
      waitForApplication,
      new Map(),
      true
    );

    await runCell(page, tmpPath, 'first.ipynb', '1 + 1', '2');
    await runCell(second, tmpPath, 'second.ipynb', '2 + 2', '4');
    for (const tab of [page, second]) {
      await expect
        .poll(async () => (await clientState(tab)).connected, {
          timeout: 20000
        })
        .toBe(false);
    }
    expect(sink.events(SCHEMA.cellExecution)).toEqual([]);

    // One tab reloads while the endpoint is still unreachable: it loads
    // JupyterLab again, its workspace reset so that no restored notebook asks
    // for a kernel.
    await second.goto(`tree/${tmpPath}?reset`);
    await runCell(second, tmpPath, 'second-b.ipynb', '3 + 3', '6');
    await runCell(page, tmpPath, 'first.ipynb', '4 + 4', '8');
    await page.waitForTimeout(1500);
    expect(sink.events(SCHEMA.cellExecution)).toEqual([]);

    expect(socket.messages).toEqual([]);
    await context.unroute(EVENTS_ROUTE);
    await socket.set('pass');
    await expect
      .poll(
        async () => {
          // A flush that fails is left to the poll's next round.
          await flush(page).catch(() => undefined);
          await flush(second).catch(() => undefined);
          return sink.events(SCHEMA.cellExecution).length;
        },
        { timeout: 90000, intervals: [2000] }
      )
      .toBe(8);
    for (const tab of [page, second]) {
      await expect
        .poll(async () => (await clientState(tab)).waiting, { timeout: 30000 })
        .toBe(0);
    }
    await page.waitForTimeout(2000);

    const cells = sink.events(SCHEMA.cellExecution);
    expect(cells.map(e => e.phase).sort()).toEqual([
      ...Array(4).fill('finished'),
      ...Array(4).fill('started')
    ]);
    // What went on the events socket counts as posts do.
    for (const { message, answer } of socket.messages) {
      batchIds(message).forEach(id => attempted.add(id));
      if (answer !== null) {
        answered.push(batchIds(message));
      }
    }
    // Every event the tabs tried to send is recorded exactly once, and
    // nothing else is.
    const recorded = sink
      .events()
      .map(e => e.__id__)
      .filter((id): id is string => typeof id === 'string');
    expect(recorded.length).toBe(new Set(recorded).size);
    expect([...recorded].sort()).toEqual([...attempted].sort());
    // No event id in more than one request that reached the server.
    const sent = answered.flat();
    expect(answered.length).toBeGreaterThan(0);
    expect(sent.length).toBe(new Set(sent).size);
    expect([...sent].sort()).toEqual([...recorded].sort());
  });
});
