#!/usr/bin/env node
/**
 * Browser benchmark of the jupyter-events-ext frontend, in a real JupyterLab on
 * Debian's Chromium (Playwright, as the Galata tests use it).
 *
 * 1. Emit: main-thread time per `IEventsClient.emit` over 10,000 emits — the
 *    synchronous cost of the call (validation, id, timestamp, queueing) and all
 *    the main-thread work until every event is stored and recorded by the
 *    server (Chrome's own TaskDuration metric, idle baseline subtracted).
 * 2. Capture: time to execute a notebook of 100 code cells with automatic
 *    capture on and off, alternated, median of several runs each.
 * 3. Every kind: the same 100 cells, typed into (each cell made active and
 *    edited, ten characters through its editor), run and scrolled through,
 *    with every capture kind on (the clipboard and snapshots too, no rate
 *    limit in the way) against capture off.
 *
 * Usage (from the repository root; the script sets up what it needs first):
 *
 *   ./scripts/bench-browser.sh [--runs 15] [--emits 10000] [--cells 100]
 *
 * It starts its own `jupyter lab` on a free loopback port (with the Galata
 * server configuration of ui-tests/, a temporary root, settings directory and
 * event sink) and stops it at the end. CHROMIUM_PATH overrides the browser.
 */
const { execSync, spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { createRequire } = require('module');

const ROOT = path.resolve(__dirname, '..');
const UI_TESTS = path.join(ROOT, 'ui-tests');
const { chromium } = createRequire(path.join(UI_TESTS, 'package.json'))(
  '@playwright/test'
);
const { chromiumLaunchOptions } = require(path.join(UI_TESTS, 'chromium'));
const { codeNotebook } = require(path.join(UI_TESTS, 'notebooks'));

const CELL_SCHEMA =
  'https://events.jupyter.org/jupyter_events_ext/cell-execution/v1';
const GOAL_EMIT_MS = 0.05;
const GOAL_CAPTURE_PCT = 5;

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForServer(url, timeout = 120000) {
  const start = Date.now();
  while (Date.now() - start < timeout) {
    try {
      const response = await fetch(url);
      if (response.ok) {
        return;
      }
    } catch {
      // not up yet
    }
    await new Promise(resolve => setTimeout(resolve, 250));
  }
  throw new Error(`${url} did not answer within ${timeout} ms`);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? sorted[middle]
    : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function taskDuration(cdp) {
  const { metrics } = await cdp.send('Performance.getMetrics');
  return metrics.find(metric => metric.name === 'TaskDuration').value * 1000;
}

/**
 * Emit `count` events through the client; return the synchronous time of the
 * emit loop and the wall time until the server has them all.
 */
function emitInPage(page, count) {
  return page.evaluate(
    async ({ count, schema }) => {
      const client = await window.galata.getPlugin('jupyter-events-ext:plugin');
      await client.listSchemas();
      const data = [];
      for (let i = 0; i < count; i++) {
        data.push({
          phase: 'finished',
          cell_id: `bench-${i}`,
          kernel_name: 'python3',
          path_mode: 'omitted',
          execution_count: i,
          success: true,
          duration_ms: 1.5
        });
      }
      const stored = new Array(count);
      const start = performance.now();
      for (let i = 0; i < count; i++) {
        stored[i] = client.emit(schema, data[i]);
      }
      const sync = performance.now() - start;
      await Promise.all(stored);
      const storedAt = performance.now() - start;
      while (client.state.waiting > 0) {
        await new Promise(resolve => setTimeout(resolve, 20));
      }
      return { sync, storedAt, delivered: performance.now() - start };
    },
    { count, schema: CELL_SCHEMA }
  );
}

/**
 * Main-thread time spent in this extension's code (and what it calls) in a
 * CPU profile: the time of each outermost call into a script of ours.
 */
function timeInExtension(profile) {
  const nodes = new Map(profile.nodes.map(node => [node.id, node]));
  const samples = new Map();
  for (const id of profile.samples) {
    samples.set(id, (samples.get(id) || 0) + 1);
  }
  const perSample =
    (profile.endTime - profile.startTime) / profile.samples.length / 1000;
  const ours = node => node.callFrame.url.includes('/jupyter-events-ext/');
  const inclusive = node =>
    (samples.get(node.id) || 0) +
    (node.children || []).reduce(
      (sum, id) => sum + inclusive(nodes.get(id)),
      0
    );
  let total = 0;
  const visit = node => {
    if (ours(node)) {
      total += inclusive(node);
      return;
    }
    for (const id of node.children || []) {
      visit(nodes.get(id));
    }
  };
  visit(profile.nodes[0]);
  return total * perSample;
}

async function setCapture(page, on) {
  await page.evaluate(async on => {
    const registry = await window.galata.getPlugin(
      '@jupyterlab/apputils-extension:settings'
    );
    await registry.set('jupyter-events-ext:plugin', 'capture', on);
  }, on);
}

/**
 * Switch every capture kind on (or all capture off), with no rate limit in
 * the way of the measure.
 */
async function setAllKinds(page, on) {
  await page.evaluate(async on => {
    const registry = await window.galata.getPlugin(
      '@jupyterlab/apputils-extension:settings'
    );
    const id = 'jupyter-events-ext:plugin';
    await registry.set(id, 'rateLimit', 100000);
    for (const kind of ['clipboard', 'snapshots', 'cellEdits', 'attention']) {
      await registry.set(id, kind, true);
    }
    await registry.set(id, 'capture', on);
  }, on);
}

/**
 * Type ten characters into each cell (made active first) through its editor,
 * run every cell and scroll from top to bottom; time it all.
 */
function workThrough(page) {
  return page.evaluate(async () => {
    const app = window.jupyterapp;
    const notebook = app.shell.currentWidget.content;
    await app.commands.execute('notebook:clear-all-cell-outputs');
    const start = performance.now();
    for (let i = 0; i < notebook.widgets.length; i++) {
      notebook.activeCellIndex = i;
      const editor = notebook.widgets[i].editor;
      const end = editor.model.sharedModel.getSource().length;
      editor.setCursorPosition(editor.getPositionAt(end));
      for (const character of ' # typed..') {
        editor.replaceSelection(character);
      }
    }
    const typed = performance.now() - start;
    await app.commands.execute('notebook:run-all-cells');
    const scroller = notebook.node.querySelector('.jp-WindowedPanel-outer');
    for (let top = 0; top < scroller.scrollHeight; top += 400) {
      scroller.scrollTop = top;
      await new Promise(resolve => requestAnimationFrame(resolve));
    }
    const elapsed = performance.now() - start;
    const cells = notebook.widgets;
    const ran = cells.filter(cell => cell.model.executionCount !== null).length;
    return { elapsed, typed, ran };
  });
}

/**
 * Clear the outputs, then time `notebook:run-all-cells` until every cell ran.
 */
function runAllCells(page) {
  return page.evaluate(async () => {
    const app = window.jupyterapp;
    await app.commands.execute('notebook:clear-all-cell-outputs');
    const start = performance.now();
    await app.commands.execute('notebook:run-all-cells');
    const elapsed = performance.now() - start;
    const cells = app.shell.currentWidget.content.widgets;
    const ran = cells.filter(cell => cell.model.executionCount !== null).length;
    return { elapsed, ran };
  });
}

async function main() {
  const runs = option('runs', 15);
  const emits = option('emits', 10000);
  const cellCount = option('cells', 100);
  const port = await freePort();
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'events-bench-'));
  const sink = path.join(scratch, 'events.jsonl');

  const lab = spawn(
    'jupyter',
    [
      'lab',
      '--config',
      path.join(UI_TESTS, 'jupyter_server_test_config.py'),
      '--ServerApp.ip=127.0.0.1',
      `--ServerApp.port=${port}`,
      `--LabApp.user_settings_dir=${path.join(scratch, 'settings')}`
    ],
    {
      cwd: UI_TESTS,
      env: { ...process.env, JUPYTER_EVENTS_EXT_SINK: sink },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true
    }
  );
  let labLog = '';
  lab.stderr.on('data', chunk => (labLog += chunk));
  const stopLab = () => {
    try {
      process.kill(-lab.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  process.on('exit', stopLab);

  const browser = await chromium.launch(chromiumLaunchOptions());
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitForServer(`${base}/jupyter-events-ext/schemas`);
    const page = await browser.newPage({
      viewport: { width: 1280, height: 800 }
    });
    await page.goto(`${base}/lab`);
    await page.waitForFunction(
      () =>
        window.galata &&
        // Galata's getPlugin needs its app, which this getter sets.
        window.galata.app &&
        window.jupyterapp.isPluginActivated('jupyter-events-ext:capture')
    );
    await page.evaluate(async () => {
      const client = await window.galata.getPlugin('jupyter-events-ext:plugin');
      // Room for every event of the run: the default bound is 10,000.
      client.configure({ queueBound: 100000 });
    });
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 100 });

    // -- 1. emit ---------------------------------------------------------------
    await emitInPage(page, 1000); // warm-up: compile, JIT, open IndexedDB
    const emitRuns = [];
    for (let run = 0; run < 3; run++) {
      const before = await taskDuration(cdp);
      const result = await emitInPage(page, emits);
      const busy = (await taskDuration(cdp)) - before;
      // The same wall time with nothing emitted: JupyterLab's own background work.
      const idleBefore = await taskDuration(cdp);
      await page.waitForTimeout(result.delivered);
      const idle = (await taskDuration(cdp)) - idleBefore;
      emitRuns.push({ ...result, busy: Math.max(0, busy - idle) });
    }

    // -- 2. 100 cells, capture on vs off -----------------------------------------
    const notebook = codeNotebook(
      Array.from({ length: cellCount }, (_, i) => `x_${i} = ${i} * 2`)
    );
    await page.evaluate(async content => {
      const app = window.jupyterapp;
      await app.serviceManager.contents.save('bench.ipynb', {
        type: 'notebook',
        format: 'json',
        content
      });
      const widget = await app.commands.execute('docmanager:open', {
        path: 'bench.ipynb'
      });
      await widget.context.ready;
      await widget.sessionContext.ready;
    }, notebook);
    const times = { on: [], off: [] };
    const busy = { on: [], off: [] };
    let ranAll = true;
    for (let run = -1; run < runs; run++) {
      // Alternate which goes first so that drift favours neither.
      const order = run % 2 ? ['on', 'off'] : ['off', 'on'];
      for (const mode of order) {
        await setCapture(page, mode === 'on');
        // Let the events of the previous run be sent before timing this one.
        await page.waitForTimeout(1500);
        await cdp.send('Profiler.start');
        const { elapsed, ran } = await runAllCells(page);
        // Until this run's events are recorded by the server.
        await page.waitForTimeout(1500);
        const { profile } = await cdp.send('Profiler.stop');
        ranAll = ranAll && ran === cellCount;
        if (run >= 0) {
          times[mode].push(elapsed);
          busy[mode].push(timeInExtension(profile));
        }
      }
    }
    await setCapture(page, true);

    // -- 3. 100 cells typed into, run and scrolled, every kind on vs off ----------
    const every = { on: [], off: [] };
    const everyTyped = { on: [], off: [] };
    const everyBusy = { on: [], off: [] };
    for (let run = -1; run < runs; run++) {
      const order = run % 2 ? ['on', 'off'] : ['off', 'on'];
      for (const mode of order) {
        await setAllKinds(page, mode === 'on');
        // The previous run's edit bursts end (2 s idle) and are sent first.
        await page.waitForTimeout(3000);
        await cdp.send('Profiler.start');
        const { elapsed, typed, ran } = await workThrough(page);
        // Until this run's edit bursts are recorded too.
        await page.waitForTimeout(3000);
        const { profile } = await cdp.send('Profiler.stop');
        ranAll = ranAll && ran === cellCount;
        if (run >= 0) {
          every[mode].push(elapsed);
          everyTyped[mode].push(typed);
          everyBusy[mode].push(timeInExtension(profile));
        }
      }
    }
    await setCapture(page, true);

    // -- report ------------------------------------------------------------------
    const perEmit = median(emitRuns.map(r => r.sync)) / emits;
    const busyPerEmit = median(emitRuns.map(r => r.busy)) / emits;
    const storedMs = median(emitRuns.map(r => r.storedAt));
    const deliveredMs = median(emitRuns.map(r => r.delivered));
    const off = median(times.off);
    const on = median(times.on);
    // Each run of one mode beside the run of the other mode next to it: the
    // machine's drift cancels out of the ratio.
    const ratios = times.on.map((t, i) => (t / times.off[i] - 1) * 100);
    const overhead = median(ratios);
    const quartile = q =>
      [...ratios].sort((a, b) => a - b)[Math.floor(q * (ratios.length - 1))];
    const pct = value => `${value >= 0 ? '+' : ''}${value.toFixed(1)} %`;
    const busyOff = median(busy.off);
    const busyOn = median(busy.on);
    const everyOff = median(every.off);
    const everyOn = median(every.on);
    const everyRatios = every.on.map((t, i) => (t / every.off[i] - 1) * 100);
    const everyOverhead = median(everyRatios);
    const everyBusyOn = median(everyBusy.on);
    const everyShare = (everyBusyOn / everyOn) * 100;
    const version = execSync('jupyter lab --version').toString().trim();
    const rows = [
      [
        `emit: synchronous main-thread time per emit (${emits.toLocaleString('en')} emits, median of 3)`,
        `${perEmit.toFixed(4)} ms`,
        `< ${GOAL_EMIT_MS} ms`,
        perEmit < GOAL_EMIT_MS ? 'PASS' : 'FAIL'
      ],
      [
        'emit: all main-thread work per emit until the server has it (TaskDuration, idle subtracted)',
        `${busyPerEmit.toFixed(4)} ms`,
        `< ${GOAL_EMIT_MS} ms`,
        busyPerEmit < GOAL_EMIT_MS ? 'PASS' : 'FAIL'
      ],
      [
        `emit: ${emits.toLocaleString('en')} events stored in IndexedDB / recorded by the server`,
        `${storedMs.toFixed(0)} ms / ${deliveredMs.toFixed(0)} ms`,
        '',
        ''
      ],
      [
        `${cellCount} cells, capture off (median of ${runs})`,
        `${off.toFixed(1)} ms`,
        '',
        ''
      ],
      [
        `${cellCount} cells, capture on (median of ${runs})`,
        `${on.toFixed(1)} ms`,
        '',
        ''
      ],
      [
        `${cellCount} cells, main-thread time in this extension, capture off / on (median)`,
        `${busyOff.toFixed(1)} ms / ${busyOn.toFixed(1)} ms`,
        '',
        ''
      ],
      [
        `capture's main-thread work as a share of the ${cellCount} cells' time`,
        `${((busyOn / on) * 100).toFixed(2)} %`,
        `< ${GOAL_CAPTURE_PCT} %`,
        (busyOn / on) * 100 < GOAL_CAPTURE_PCT ? 'PASS' : 'FAIL'
      ],
      [
        `capture overhead on ${cellCount} cells (median of paired on/off ratios)`,
        `${pct(overhead)} (quartiles ${pct(quartile(0.25))} … ${pct(quartile(0.75))})`,
        `< ${GOAL_CAPTURE_PCT} %`,
        overhead < GOAL_CAPTURE_PCT && ranAll ? 'PASS' : 'FAIL'
      ],
      [
        `${cellCount} cells typed into, run and scrolled, capture off / every kind on (median of ${runs})`,
        `${everyOff.toFixed(1)} ms / ${everyOn.toFixed(1)} ms`,
        '',
        ''
      ],
      [
        `  of which typing (${cellCount} × 10 characters), off / every kind on`,
        `${median(everyTyped.off).toFixed(1)} ms / ${median(everyTyped.on).toFixed(1)} ms`,
        '',
        ''
      ],
      [
        `every kind on: main-thread work as a share of the ${cellCount} cells' time`,
        `${everyShare.toFixed(2)} % (${median(everyBusy.off).toFixed(1)} ms off / ${everyBusyOn.toFixed(1)} ms on)`,
        `< ${GOAL_CAPTURE_PCT} %`,
        everyShare < GOAL_CAPTURE_PCT ? 'PASS' : 'FAIL'
      ],
      [
        `every kind on: overhead on ${cellCount} cells typed, run, scrolled (paired ratios)`,
        `${pct(everyOverhead)}`,
        `< ${GOAL_CAPTURE_PCT} %`,
        everyOverhead < GOAL_CAPTURE_PCT && ranAll ? 'PASS' : 'FAIL'
      ]
    ];
    const widths = [0, 1, 2, 3].map(i =>
      Math.max(
        ...rows.map(row => row[i].length),
        ['metric', 'value', 'goal', ''][i].length
      )
    );
    const line = cells =>
      `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
    console.log(
      `jupyter-events-ext browser benchmark — JupyterLab ${version}, ${await browser.version()}, ` +
        `${os.cpus().length} CPUs, Node ${process.version}`
    );
    console.log(line(['metric', 'value', 'goal', '']));
    console.log(line(widths.map(width => '-'.repeat(width))));
    for (const row of rows) {
      console.log(line(row));
    }
    console.log(
      `capture off runs (ms): ${times.off.map(t => t.toFixed(0)).join(', ')}`
    );
    console.log(
      `capture on runs (ms):  ${times.on.map(t => t.toFixed(0)).join(', ')}`
    );
    console.log(
      `every kind off runs (ms): ${every.off.map(t => t.toFixed(0)).join(', ')}`
    );
    console.log(
      `every kind on runs (ms):  ${every.on.map(t => t.toFixed(0)).join(', ')}`
    );
    if (!ranAll) {
      console.log('WARNING: some runs did not execute every cell');
    }
    await page.close();
  } catch (error) {
    console.error(labLog.split('\n').slice(-30).join('\n'));
    throw error;
  } finally {
    await browser.close();
    stopLab();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
