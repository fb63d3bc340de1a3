/**
 * The extension in Jupyter Notebook 7 (the `notebook` project of
 * playwright.config.js: a `jupyter notebook` server with its own sink).
 * Galata's page fixture works there with no /lab prefix; its JupyterLab
 * helpers (tabs, `page.notebook`) do not, so these tests use the page itself.
 */
import {
  expect,
  galata,
  IJupyterLabPageFixture,
  test
} from '@jupyterlab/galata';
import type { ConsoleMessage, Locator, Page } from '@playwright/test';

import { flush } from '../client';
import { codeNotebook } from '../../notebooks';
import { SCHEMA, Sink } from '../sink';

const VIEWER = '#jupyter-events-ext-viewer';
const ACTIVITY = '#jupyter-events-ext-activity';

/**
 * Every plugin of the extension, and whether Jupyter Notebook has what it
 * needs: the status bar is JupyterLab's only.
 */
const PLUGINS: Record<string, boolean> = {
  'jupyter-events-ext:settings': true,
  'jupyter-events-ext:plugin': true,
  'jupyter-events-ext:capture': true,
  'jupyter-events-ext:consent': true,
  'jupyter-events-ext:viewer': true,
  'jupyter-events-ext:activity': true,
  'jupyter-events-ext:status': true,
  // JupyterLab's own event API, served by this extension (Notebook 7.4 and
  // later, built on JupyterLab 4.4, has service-manager plugins).
  'jupyter-events-ext:event-manager': true,
  'jupyter-events-ext:event-manager-client': true
};

test.use({
  // Paths as is, to find this test's notebook (the server allows it).
  mockSettings: {
    ...galata.DEFAULT_SETTINGS,
    'jupyter-events-ext:plugin': { pathMode: 'as-is' }
  },
  // Each test opens the page it needs, once it listens to the console.
  autoGoto: false,
  // Jupyter Notebook's pages are ready once their one main widget is.
  // (Playwright reads a fixture's needs from its pattern: none here.)
  // eslint-disable-next-line no-empty-pattern
  waitForApplication: async ({}, use) =>
    use(async (page: Page) => {
      await page.locator('#main-panel').waitFor();
    })
});

/**
 * The errors of a page that come from this extension: in its console, or
 * thrown and not caught, naming its plugins or code (its bundle's URL). Not
 * Jupyter Notebook's own: 7.6.5's pages log a TypeError from its keyboard
 * shortcuts plugin, this extension disabled or not.
 */
function errorsOf(page: Page): string[] {
  const errors: string[] = [];
  const add = (error: string) => {
    if (error.includes('jupyter-events-ext')) {
      errors.push(error);
    }
  };
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error') {
      const { url, lineNumber } = message.location();
      add(`${message.text()} (${url}:${lineNumber})`);
    }
  });
  page.on('pageerror', error => add(error.stack ?? String(error)));
  return errors;
}

/**
 * Write a notebook of these code cells (ids `cell-0`, `cell-1`, ...).
 */
async function writeNotebook(
  page: IJupyterLabPageFixture,
  path: string,
  sources: string[]
): Promise<void> {
  await page.contents.uploadContent(
    JSON.stringify(codeNotebook(sources)),
    'text',
    path
  );
}

/**
 * Open a view as a user would, from the View menu; it shows in the right
 * side panel (the main area holds the page's one document).
 */
async function openFromMenu(page: Page, label: string, id: string) {
  await page.locator('.lm-MenuBar-itemLabel', { hasText: /^View$/ }).click();
  await page
    .locator('.lm-Menu-itemLabel', { hasText: new RegExp(`^${label}$`) })
    .click();
  const view = page.locator(`#jp-right-stack ${id}`);
  await expect(view).toBeVisible();
  return view;
}

/**
 * The Viewer's rows of the command that opens it (recorded by capture, and
 * streamed back by the server, which also replays those it buffered of
 * earlier tests).
 */
function openViewerRows(viewer: Locator) {
  return viewer.locator(
    `.jp-EventViewer-row[data-schema="${SCHEMA.command}"]`,
    {
      hasText: 'jupyter-events-ext:open-viewer'
    }
  );
}

test.describe('Jupyter Notebook 7', () => {
  test('the tree view: every plugin starts, the Viewer and the Activity view open in a side panel, no error', async ({
    page,
    tmpPath
  }) => {
    const errors = errorsOf(page);
    await page.goto(`tree/${tmpPath}`);

    for (const [id, active] of Object.entries(PLUGINS)) {
      expect(
        await page.evaluate(id => window.jupyterapp.isPluginActivated(id), id),
        id
      ).toBe(active);
    }
    // The consent's notice, as in JupyterLab, naming this frontend; the
    // tree view has the Settings Editor its Settings button opens.
    const notice = page.locator('.Toastify__toast');
    await expect(notice).toContainText(
      'Jupyter Notebook records your actions here'
    );
    await expect(notice.getByRole('button', { name: 'Settings' })).toHaveCount(
      1
    );
    // No status bar here: its plugin adds nothing.
    await expect(page.locator('.jp-EventsStatus')).toHaveCount(0);

    const viewer = await openFromMenu(page, 'Event Viewer', VIEWER);
    await expect(openViewerRows(viewer).first()).toBeVisible();

    const activity = await openFromMenu(page, 'Event Activity', ACTIVITY);
    await expect(activity.locator('[data-chart="events"]')).toBeVisible();

    expect(errors).toEqual([]);
  });

  test('the notebook view: cells run are recorded exactly once, and the Viewer shows them', async ({
    page,
    tmpPath
  }) => {
    const sink = new Sink(process.env.JUPYTER_EVENTS_EXT_NOTEBOOK_SINK);
    const errors = errorsOf(page);
    const path = `${tmpPath}/cells.ipynb`;
    await writeNotebook(page, path, ['1 + 1', '1 / 0']);
    await page.goto(`notebooks/${path}`);

    // Run both cells, as a user would, once the kernel is ready.
    await expect
      .poll(() =>
        page.evaluate(
          () =>
            (window.jupyterapp.shell.currentWidget as any)?.sessionContext
              ?.kernelDisplayStatus
        )
      )
      .toBe('idle');
    await page.locator('.jp-Cell').first().click();
    await page.keyboard.press('Shift+Enter');
    await page.keyboard.press('Shift+Enter');
    await expect(page.locator('.jp-OutputArea-output')).toHaveCount(2);
    // JupyterLab's own event API, as another extension would use it: here
    // too it is this client's (validated, queued, sent with a client id).
    await page.evaluate(
      schema_id =>
        window.jupyterapp.serviceManager.events.emit({
          schema_id,
          version: 1,
          data: { command_id: 'test:core-api-in-notebook' }
        }),
      SCHEMA.command
    );
    await flush(page);

    const runs = () =>
      sink
        .events(SCHEMA.cellExecution)
        .filter(e => e.notebook === path)
        .map(e => `${e.cell_id} ${e.phase}`);
    await expect.poll(runs, { timeout: 20000 }).toHaveLength(4);
    expect(runs().sort()).toEqual([
      'cell-0 finished',
      'cell-0 started',
      'cell-1 finished',
      'cell-1 started'
    ]);
    const throughCoreAPI = sink
      .events(SCHEMA.command)
      .filter(e => e.command_id === 'test:core-api-in-notebook');
    expect(throughCoreAPI).toHaveLength(1);
    expect(throughCoreAPI[0].__id__).toEqual(expect.any(String));
    // The client's ids too: no event recorded twice.
    const ids = sink.events().flatMap(e => (e.__id__ ? [e.__id__] : []));
    expect(new Set(ids).size).toBe(ids.length);
    // The notebook opened and in focus, once each, with its path: they
    // happen as the page loads, before the server has said how paths are
    // recorded, and wait for that answer rather than go without it.
    expect(
      sink
        .events(SCHEMA.document)
        .filter(e => e.action === 'opened' && e.path === path)
    ).toHaveLength(1);
    expect(
      sink.events(SCHEMA.activeDocument).filter(e => e.path === path)
    ).toHaveLength(1);

    // The notice here has no Settings button: this view has no Settings
    // Editor (the tree view has).
    const notice = page.locator('.Toastify__toast');
    await expect(notice).toContainText('Jupyter Notebook records');
    await expect(notice.getByRole('button', { name: 'Details' })).toHaveCount(
      1
    );
    await expect(notice.getByRole('button', { name: 'Settings' })).toHaveCount(
      0
    );

    const viewer = await openFromMenu(page, 'Event Viewer', VIEWER);
    await expect(openViewerRows(viewer).first()).toBeVisible();
    // This notebook's cell runs, found by its path (the Viewer's search).
    await page.evaluate(
      query =>
        window.jupyterapp.commands.execute('jupyter-events-ext:viewer-search', {
          query
        }),
      path
    );
    await expect(
      viewer.locator(
        `.jp-EventViewer-row[data-schema="${SCHEMA.cellExecution}"]`
      )
    ).toHaveCount(4);

    expect(errors).toEqual([]);
  });
});
