import {
  expect,
  galata,
  IJupyterLabPageFixture,
  test
} from '@jupyterlab/galata';

import { createHash } from 'crypto';
import { readFileSync } from 'fs';
import { join } from 'path';

import { clientState, flush } from './client';
import { codeNotebook } from '../notebooks';
import { IEnvelope, Sink } from './sink';

const BASE = 'https://events.jupyter.org/jupyter_events_ext';
const KIND = {
  edit: `${BASE}/cell-edit/v1`,
  structure: `${BASE}/notebook-structure/v1`,
  attention: `${BASE}/attention/v1`,
  outputs: `${BASE}/cell-outputs/v1`,
  clipboard: `${BASE}/clipboard/v1`,
  command: `${BASE}/command/v1`,
  document: `${BASE}/document/v1`,
  drops: `${BASE}/capture-drops/v1`,
  snapshot: `${BASE}/notebook-snapshot/v1`
};
const TOGGLE = 'jupyter-events-ext:toggle-notebook-capture';

/**
 * The capture settings of these tests: paths as is (to tell notebooks apart),
 * the clipboard on, short edit bursts and sampling periods.
 */
const SETTINGS = {
  pathMode: 'as-is',
  clipboard: true,
  cellEditIdleMs: 600,
  attentionSampleSeconds: 1,
  // The first-run notice (consent.spec.ts tests it) stays out of the way.
  consent: 'none'
};

test.use({
  mockSettings: {
    ...galata.DEFAULT_SETTINGS,
    'jupyter-events-ext:plugin': SETTINGS
  }
});

function execute(page: IJupyterLabPageFixture, id: string) {
  return page.evaluate(id => window.jupyterapp.commands.execute(id), id);
}

/**
 * The events of one schema about one notebook (Galata puts each test's files
 * in a directory of its own).
 */
function about(sink: Sink, schema: string, notebook: string): IEnvelope[] {
  return sink
    .events(schema)
    .filter(
      e => typeof e.notebook === 'string' && e.notebook.endsWith(`/${notebook}`)
    );
}

/**
 * Write a notebook of `count` code cells and open it.
 */
async function openLong(
  page: IJupyterLabPageFixture,
  path: string,
  count: number
) {
  const sources = Array.from(
    { length: count },
    (_, i) => `# cell ${i}\nvalue_${i} = ${i}\nprint(value_${i})`
  );
  await page.evaluate(
    async ({ path, content }) => {
      const app = window.jupyterapp;
      await app.serviceManager.contents.save(path, {
        type: 'notebook',
        format: 'json',
        content
      });
      await app.commands.execute('docmanager:open', { path });
    },
    { path, content: codeNotebook(sources, 'long') }
  );
  await page.locator('.jp-NotebookPanel:visible .jp-Cell').first().waitFor();
}

test.describe('capture of a learner working through notebooks', () => {
  test.setTimeout(120 * 1000);

  test('typing, cell structure, scrolling, tab switches, copy and paste: each recorded once, no source text', async ({
    page,
    tmpPath
  }) => {
    const sink = new Sink();
    const path = 'learner.ipynb';
    await page.notebook.createNew(path);
    await page.notebook.setCell(0, 'code', '');

    // -- typing: one burst, counts only
    await page.notebook.enterCellEditingMode(0);
    await page.keyboard.type('secret_answer = 42', { delay: 20 });
    await page.keyboard.press('Escape');
    await expect
      .poll(
        async () => (await flush(page), about(sink, KIND.edit, path).length),
        {
          timeout: 15000
        }
      )
      .toBe(1);
    expect(about(sink, KIND.edit, path)[0]).toMatchObject({
      chars_added: 18,
      chars_removed: 0,
      source_length: 18,
      cell_type: 'code',
      index: 0,
      path_mode: 'as-is'
    });

    // -- structure: add, move, change type, delete
    await execute(page, 'notebook:insert-cell-below');
    await execute(page, 'notebook:move-cell-up');
    await execute(page, 'notebook:change-cell-to-markdown');
    await execute(page, 'notebook:insert-cell-below');
    await execute(page, 'notebook:delete-cell');
    await flush(page);
    await expect
      .poll(() => about(sink, KIND.structure, path).map(e => e.action), {
        timeout: 15000
      })
      .toEqual(['added', 'moved', 'type-changed', 'added', 'deleted']);
    const [added, moved, retyped, , deleted] = about(
      sink,
      KIND.structure,
      path
    );
    expect(moved).toMatchObject({
      cell_id: added.cell_id,
      from_index: 1,
      index: 0
    });
    expect(retyped).toMatchObject({
      cell_id: added.cell_id,
      cell_type: 'markdown',
      from_type: 'code',
      index: 0
    });
    expect(deleted).toMatchObject({ index: 1 });

    // -- copy and paste: cells in command mode, text in an editor
    await page.notebook.selectCells(1);
    await execute(page, 'notebook:copy-cell');
    await execute(page, 'notebook:paste-cell-below');
    await page.notebook.enterCellEditingMode(1);
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.press('ControlOrMeta+c');
    await page.keyboard.press('End');
    await page.keyboard.press('ControlOrMeta+v');
    await page.keyboard.press('Escape');
    await flush(page);
    await expect
      .poll(
        () =>
          about(sink, KIND.clipboard, path).map(
            e => `${e.action}:${e.target}:${e.cell_count ?? ''}:${e.char_count}`
          ),
        { timeout: 15000 }
      )
      .toEqual([
        'copy:cells:1:18',
        'paste:cells:1:18',
        'copy:text::18',
        'paste:text::18'
      ]);

    // -- scrolling a long notebook: the cells in view, sampled
    const long = 'long.ipynb';
    await openLong(page, `${tmpPath}/${long}`, 80);
    await page.locator('.jp-NotebookPanel:visible .jp-Cell').nth(2).hover();
    for (let i = 0; i < 10; i++) {
      await page.mouse.wheel(0, 400);
      await page.waitForTimeout(50);
    }
    await expect
      .poll(() =>
        page.evaluate(
          () =>
            document.querySelector(
              '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer'
            )?.scrollTop ?? 0
        )
      )
      .toBeGreaterThan(0);
    // Sampled once scrolling settles. The capture follows a notebook once its
    // context is ready, which on a loaded machine can come after the first
    // wheel turns: scroll on until a sample arrives, as a reader would.
    const inView = () =>
      about(sink, KIND.attention, long).filter(
        e => e.action === 'cells-in-view'
      );
    await expect
      .poll(
        async () => {
          await page.waitForTimeout(1500);
          await flush(page);
          if (inView().length === 0) {
            await page.mouse.wheel(0, 200);
          }
          return inView().length;
        },
        { timeout: 30000 }
      )
      .toBeGreaterThan(0);
    const samples = inView();
    for (const [i, sample] of samples.entries()) {
      expect(sample.first_index).toBeGreaterThan(0);
      expect(sample.last_index).toBeGreaterThanOrEqual(sample.first_index);
      expect(sample.cell_count).toBe(80);
      // A sample is recorded only when the range in view changed.
      if (i > 0) {
        expect([sample.first_index, sample.last_index]).not.toEqual([
          samples[i - 1].first_index,
          samples[i - 1].last_index
        ]);
      }
    }
    expect(new Set(samples.map(e => e.__id__)).size).toBe(samples.length);

    // -- switching tabs: one notebook hidden, the other visible
    await page.notebook.activate(path);
    await flush(page);
    // Opening the long notebook hid the first; coming back hid the long one.
    const tabSwitches = () =>
      sink
        .events(KIND.attention)
        .filter(e => e.reason === 'tab')
        .map(e => `${e.notebook.split('/').pop()}:${e.action}`)
        .sort();
    await expect
      .poll(tabSwitches, { timeout: 15000 })
      .toEqual([`${path}:hidden`, `${path}:visible`, `${long}:hidden`]);

    // Never the source, the clipboard's text or outputs.
    await flush(page);
    const text = JSON.stringify(sink.events());
    expect(text).not.toContain('secret_answer');
    expect(text).not.toContain('value_');
    for (const event of sink.events(KIND.edit)) {
      expect(Object.keys(event)).not.toContain('text_added');
    }
  });

  test('a notebook turned off with the toolbar toggle is not recorded; on again, it is', async ({
    page
  }) => {
    const path = 'answer-key.ipynb';
    await page.notebook.createNew(path);
    const toggle = page.locator(
      `.jp-NotebookPanel-toolbar [data-command="${TOGGLE}"]`
    );
    await expect(toggle).toBeVisible();
    await toggle.click();
    await expect
      .poll(() =>
        page.evaluate(() =>
          (
            window.jupyterapp.shell.currentWidget as any
          ).context.model.getMetadata('jupyter_events_ext')
        )
      )
      .toEqual({ capture: false });
    // What was recorded before the toggle has reached the server: start after it.
    await page.waitForTimeout(500);
    await flush(page);
    const sink = new Sink();
    await page.notebook.setCell(0, 'code', 'hidden_answer = 1');
    await execute(page, 'notebook:insert-cell-below');
    await page.notebook.run();
    await page.waitForTimeout(1000);
    await flush(page);
    expect(JSON.stringify(sink.events())).not.toContain(`/${path}`);
    expect(sink.events(KIND.command)).toEqual([]);

    await toggle.click();
    await execute(page, 'notebook:insert-cell-below');
    await flush(page);
    await expect
      .poll(() => about(sink, KIND.structure, path).map(e => e.action), {
        timeout: 15000
      })
      .toEqual(['added']);
  });
});

test.describe('rate limits', () => {
  test.use({
    mockSettings: {
      ...galata.DEFAULT_SETTINGS,
      'jupyter-events-ext:plugin': { ...SETTINGS, rateLimit: 4 }
    }
  });

  test('a kind records at most its limit per minute; the rest are dropped, and their count recorded', async ({
    page
  }) => {
    await page.notebook.createNew('flood.ipynb');
    await page.waitForTimeout(500);
    await flush(page);
    const sink = new Sink();
    await page.evaluate(async () => {
      for (let i = 0; i < 20; i++) {
        await window.jupyterapp.commands.execute('notebook:insert-cell-below');
      }
    });
    await page.waitForTimeout(500);
    await flush(page);
    await expect
      .poll(() => about(sink, KIND.structure, 'flood.ipynb').length, {
        timeout: 15000
      })
      .toBe(4);
    await page.waitForTimeout(1000);
    await flush(page);
    expect(about(sink, KIND.structure, 'flood.ipynb')).toHaveLength(4);
    // The 16 dropped are recorded as a count, about 11 s after the first drop.
    const dropped = () =>
      sink
        .events(KIND.drops)
        .filter(e => e.kind === 'notebookStructure')
        .reduce((sum, e) => sum + (e.dropped as number), 0);
    await expect
      .poll(
        async () => {
          await flush(page);
          return dropped();
        },
        { timeout: 30000, intervals: [1000] }
      )
      .toBe(16);
    const report = sink
      .events(KIND.drops)
      .find(e => e.kind === 'notebookStructure')!;
    expect(report).toMatchObject({ rate_limit: 4 });
    expect(Date.parse(report.last as string)).toBeGreaterThanOrEqual(
      Date.parse(report.first as string)
    );
  });
});

test.describe('what is captured before the server says how to treat paths', () => {
  const INFO_ROUTE = '**/jupyter-events-ext/info*';

  test('is in the events client’s queue when the page goes away meanwhile, before the client stores and posts what waits', async ({
    page,
    tmpPath
  }) => {
    const path = `${tmpPath}/held.ipynb`;
    await page.contents.uploadContent(
      JSON.stringify(codeNotebook(['1 + 1'])),
      'text',
      path
    );
    // The server's path policy does not come: capture holds what it records.
    await page.route(INFO_ROUTE, () => undefined);
    const loading = Date.now();
    await page.reload();
    // Told after capture that the page leaves, as the client then stores and
    // posts what waits: keep how many events wait at that moment.
    await page.evaluate(async () => {
      const client = await (window as any).galata.getPlugin(
        'jupyter-events-ext:plugin'
      );
      client.leaving.connect(() =>
        sessionStorage.setItem(
          'waiting-when-leaving',
          String(client.state.waiting)
        )
      );
    });
    // Nothing here waits for the notebook to render or its kernel.
    await page.evaluate(
      path => window.jupyterapp.commands.execute('docmanager:open', { path }),
      path
    );
    // Held in the page: not queued.
    expect((await clientState(page)).waiting).toBe(0);

    // Still within the hold (10 s from capture's start, after `loading`):
    // past it, capture would have sent what it held by itself.
    expect(Date.now() - loading).toBeLessThan(9000);
    await page.unroute(INFO_ROUTE);
    // The notebook is restored in front, not the Launcher Galata waits for.
    await page.reload({ waitForIsReady: false });
    await page.locator('.jp-NotebookPanel:visible .jp-Cell').first().waitFor();
    const waiting = await page.evaluate(() =>
      Number(sessionStorage.getItem('waiting-when-leaving'))
    );
    // The document opened, the document in focus, and the commands.
    expect(waiting).toBeGreaterThanOrEqual(2);
  });
});

test.describe('notebook snapshots', () => {
  test.use({
    mockSettings: {
      ...galata.DEFAULT_SETTINGS,
      'jupyter-events-ext:plugin': { ...SETTINGS, snapshots: true }
    }
  });

  test('a save stores the notebook, without outputs, under the hash its event names', async ({
    page
  }) => {
    const sink = new Sink();
    await page.notebook.createNew('kept.ipynb');
    await page.notebook.setCell(0, 'code', 'print("kept " + "here")');
    await page.notebook.runCell(0);
    await page.notebook.save();
    await expect
      .poll(
        async () => {
          await flush(page);
          return about(sink, KIND.snapshot, 'kept.ipynb').length;
        },
        { timeout: 15000 }
      )
      .toBeGreaterThanOrEqual(1);
    const event = about(sink, KIND.snapshot, 'kept.ipynb').pop()!;
    expect(event).toMatchObject({
      status: 'stored',
      trigger: 'save',
      outputs_included: false
    });
    // The event names the snapshot; the notebook itself is only in the store.
    expect(JSON.stringify(event)).not.toContain('kept " + "here');
    const file = readFileSync(
      join(process.env.JUPYTER_EVENTS_EXT_SNAPSHOTS!, `${event.sha256}.ipynb`)
    );
    expect(createHash('sha256').update(file).digest('hex')).toBe(event.sha256);
    expect(file.length).toBe(event.size_bytes);
    const notebook = JSON.parse(file.toString('utf8'));
    expect(notebook.nbformat).toBe(4);
    const [cell] = notebook.cells;
    expect([cell.cell_type, cell.source, cell.outputs]).toEqual([
      'code',
      'print("kept " + "here")',
      []
    ]);
  });
});
