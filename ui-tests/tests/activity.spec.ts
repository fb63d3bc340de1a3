import { existsSync, readFileSync } from 'fs';
import * as path from 'path';

import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';

import { flush } from './client';
import { IEnvelope, SCHEMA, Sink } from './sink';

const OPEN_ACTIVITY = 'jupyter-events-ext:open-activity';
const VEGALITE_MIME = 'application/vnd.vegalite.v5+json';

async function openActivity(page: IJupyterLabPageFixture) {
  await page.evaluate(async id => {
    await window.jupyterapp.commands.execute(id);
  }, OPEN_ACTIVITY);
  const view = page.locator('.jp-ActivityView');
  await expect(view).toBeVisible();
  await expect(view.locator('.jp-ActivityView-connection')).toHaveText('Live');
  return view;
}

/**
 * The spec each chart of the view last gave JupyterLab's Vega-Lite renderer
 * (`null` for a chart that drew nothing).
 */
function specs(page: IJupyterLabPageFixture): Promise<Record<string, any>> {
  return page.evaluate(mime => {
    const result: Record<string, any> = {};
    for (const chart of document.querySelectorAll<HTMLElement>(
      '.jp-ActivityView-chart'
    )) {
      const text = chart.querySelector(`script[type="${mime}"]`)?.textContent;
      result[chart.dataset.chart!] = text ? JSON.parse(text) : null;
    }
    return result;
  }, VEGALITE_MIME);
}

/**
 * Everything the server recorded since it started (the sink from its first
 * line), which its stream buffer also holds: what the view replays.
 */
function recorded(schema: string): IEnvelope[] {
  const file = process.env.JUPYTER_EVENTS_EXT_SINK!;
  if (!existsSync(file)) {
    return [];
  }
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(line => line.trim() !== '')
    .map(line => JSON.parse(line) as IEnvelope)
    .filter(event => event.__schema__ === schema);
}

/**
 * What the charts should say about what the server recorded: the durations
 * of finished cells, failures by error name, the top ten commands.
 */
function expected() {
  const finished = recorded(SCHEMA.cellExecution).filter(
    e => e.phase === 'finished'
  );
  const failures: Record<string, number> = {};
  for (const e of finished.filter(e => e.success === false)) {
    failures[e.error_name] = (failures[e.error_name] ?? 0) + 1;
  }
  const commands = new Map<string, number>();
  for (const e of recorded(SCHEMA.command)) {
    commands.set(e.command_id, (commands.get(e.command_id) ?? 0) + 1);
  }
  const top = [...commands]
    .map(([command, count]) => ({ command, count }))
    .sort(
      (a, b) =>
        b.count - a.count ||
        (a.command < b.command ? -1 : a.command > b.command ? 1 : 0)
    )
    .slice(0, 10);
  return {
    durations: finished.map(e => e.duration_ms).sort((a, b) => a - b),
    failures,
    commands: top,
    events: {
      'cell-execution': recorded(SCHEMA.cellExecution).length,
      command: recorded(SCHEMA.command).length
    }
  };
}

/**
 * The same, read from the data the view gave the renderer.
 */
async function drawn(page: IJupyterLabPageFixture) {
  const charts = await specs(page);
  const failures: Record<string, number> = {};
  for (const row of charts.failures?.data.values ?? []) {
    failures[row.error] = (failures[row.error] ?? 0) + row.count;
  }
  const events: Record<string, number> = {
    'cell-execution': 0,
    command: 0
  };
  for (const row of charts.events?.data.values ?? []) {
    if (row.schema_id === SCHEMA.cellExecution) {
      events['cell-execution'] += row.count;
    } else if (row.schema_id === SCHEMA.command) {
      events.command += row.count;
    }
  }
  return {
    durations: (charts.durations?.data.values ?? [])
      .map((row: any) => row.duration_ms)
      .sort((a: number, b: number) => a - b),
    failures,
    commands: charts.commands?.data.values ?? [],
    events
  };
}

/**
 * Whether the charts say what the server recorded, with both for the report.
 */
async function agreement(page: IJupyterLabPageFixture) {
  const charts = await drawn(page);
  const server = expected();
  return {
    same: JSON.stringify(charts) === JSON.stringify(server),
    charts,
    server
  };
}

test.describe('Activity view', () => {
  test('charts the cells run, live, with the counts the server recorded', async ({
    page
  }) => {
    const sink = new Sink();
    await page.notebook.createNew('activity.ipynb');
    await page.notebook.setCell(0, 'code', '1 + 1');
    await page.notebook.addCell('code', 'sum(range(10))');
    await page.notebook.addCell('code', '1 / 0');
    await page.notebook.run();
    await flush(page);
    await expect
      .poll(
        () =>
          sink.events(SCHEMA.cellExecution).filter(e => e.phase === 'finished')
            .length,
        { timeout: 20000 }
      )
      .toBe(3);

    const view = await openActivity(page);
    // The view replays the server's buffer: everything recorded so far. It
    // converges on the sink once the events of opening it are recorded too.
    await expect
      .poll(() => agreement(page), { timeout: 20000 })
      .toMatchObject({ same: true });
    const charts = await drawn(page);
    expect(charts.durations.length).toBeGreaterThanOrEqual(3);
    expect(charts.failures.ZeroDivisionError).toBeGreaterThanOrEqual(1);
    expect(charts.commands.length).toBeGreaterThan(0);

    // Drawn by JupyterLab's own renderer, one point per duration.
    await expect(view.locator('.jp-RenderedVegaLite svg')).toHaveCount(4);
    const durations = view.locator('[data-chart="durations"]');
    await expect(durations.locator('.mark-symbol.role-mark path')).toHaveCount(
      charts.durations.length
    );
    await expect(durations.locator('svg')).toContainText('Duration (s)');

    // Live: another failure in the notebook shows without reopening.
    const failuresBefore = charts.failures.ZeroDivisionError;
    await page.notebook.activate('activity.ipynb');
    await page.notebook.addCell('code', '2 / 0');
    await page.notebook.runCell(3);
    await flush(page);
    await page.evaluate(async id => {
      await window.jupyterapp.commands.execute(id);
    }, OPEN_ACTIVITY);
    await expect
      .poll(async () => (await drawn(page)).failures.ZeroDivisionError, {
        timeout: 20000
      })
      .toBe(failuresBefore + 1);
    await expect
      .poll(() => agreement(page), { timeout: 20000 })
      .toMatchObject({ same: true });
  });

  test('follows the theme, light and dark', async ({ page }) => {
    await openActivity(page);
    // Whatever the earlier tests recorded: at least the commands chart draws.
    await expect
      .poll(async () => (await specs(page)).commands !== null)
      .toBe(true);
    const light = (await specs(page)).commands.config;
    expect(light.background).toBe('transparent');

    await page.theme.setDarkTheme();
    try {
      await expect
        .poll(async () => (await specs(page)).commands.config.axis.titleColor)
        .not.toBe(light.axis.titleColor);
      const dark = (await specs(page)).commands.config;
      // The theme's own text colour, read from its CSS variables.
      expect(dark.axis.titleColor).toBe(
        await page.evaluate(() =>
          getComputedStyle(document.body)
            .getPropertyValue('--jp-ui-font-color1')
            .trim()
        )
      );
      await expect(
        page.locator('.jp-ActivityView .jp-RenderedVegaLite svg').first()
      ).toBeVisible();
    } finally {
      await page.theme.setLightTheme();
    }
  });

  test('screenshot for the docs', async ({ page }) => {
    await page.setViewportSize({ width: 1280, height: 860 });
    await page.notebook.createNew('analysis.ipynb');
    await page.notebook.setCell(
      0,
      'code',
      'import time\nfor n in range(3):\n    time.sleep(0.1)'
    );
    await page.notebook.addCell('code', 'squares = [n * n for n in range(10)]');
    await page.notebook.addCell('code', 'time.sleep(0.4)');
    await page.notebook.addCell('code', 'squares[20]');
    await page.notebook.run();
    await page.notebook.addCell('code', 'undefined_name');
    await page.notebook.runCell(4);
    await page.notebook.save();
    await flush(page);
    const view = await openActivity(page);
    await expect(view.locator('.jp-RenderedVegaLite svg')).toHaveCount(4);
    await page.evaluate(() =>
      window.jupyterapp.commands.execute('application:toggle-left-area')
    );
    // Let the view redraw at its new width (at most once a second).
    await page.waitForTimeout(1500);
    await page.locator('#jp-main-dock-panel').screenshot({
      path: path.resolve(__dirname, '../../docs/activity.png')
    });
  });
});
