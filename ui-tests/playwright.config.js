/**
 * Galata configuration: Debian's Chromium instead of a browser Playwright
 * would download (this network reaches package registries only).
 */
const os = require('os');
const path = require('path');

// Several checkouts on one machine each test against their own server.
const port = process.env.JUPYTER_EVENTS_EXT_GALATA_PORT || '8888';
process.env.JUPYTER_EVENTS_EXT_GALATA_PORT = port;
// The Jupyter Notebook 7 server of tests/notebook/, two ports up.
const notebookPort = String(Number(port) + 2);
process.env.TARGET_URL = process.env.TARGET_URL || `http://localhost:${port}`;
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

// This run's files, which workers find through the environment (they load this
// file too, and inherit the paths rather than make new ones).
const runDir = path.join(
  os.tmpdir(),
  `jupyter-events-ext-galata-${process.pid}`
);
// The server's JSON-lines sink, which the tests read (jupyter_server_test_config.py).
process.env.JUPYTER_EVENTS_EXT_SINK =
  process.env.JUPYTER_EVENTS_EXT_SINK || path.join(runDir, 'events.jsonl');
// The server's snapshot store, which the snapshot test reads.
process.env.JUPYTER_EVENTS_EXT_SNAPSHOTS =
  process.env.JUPYTER_EVENTS_EXT_SNAPSHOTS || path.join(runDir, 'snapshots');
// The Notebook server's own sink, which tests/notebook/ reads.
process.env.JUPYTER_EVENTS_EXT_NOTEBOOK_SINK =
  process.env.JUPYTER_EVENTS_EXT_NOTEBOOK_SINK ||
  path.join(runDir, 'notebook-events.jsonl');

const { chromiumLaunchOptions } = require('./chromium');

module.exports = {
  ...baseConfig,
  reporter: [['list'], ['html', { open: 'never' }]],
  // The tests of a project share one server and read its one sink.
  workers: 1,
  projects: [
    { name: 'jupyterlab', testIgnore: /tests\/notebook\// },
    {
      // Jupyter Notebook 7's pages: the tree at /tree, a notebook at
      // /notebooks/<path> (Galata's page fixture, with no /lab prefix).
      name: 'notebook',
      testMatch: /tests\/notebook\/.*\.spec\.ts$/,
      use: { baseURL: `http://localhost:${notebookPort}`, appPath: '' }
    }
  ],
  use: {
    ...baseConfig.use,
    video: 'off',
    trace: 'off',
    launchOptions: chromiumLaunchOptions()
  },
  webServer: [
    {
      command: 'jlpm start',
      url: `http://localhost:${port}/lab`,
      timeout: 120 * 1000,
      reuseExistingServer: !process.env.CI
    },
    {
      command: `jlpm start:notebook --port=${notebookPort}`,
      url: `http://localhost:${notebookPort}/tree`,
      // Its own sink and snapshot store (jupyter_notebook_test_config.py).
      env: {
        ...process.env,
        JUPYTER_EVENTS_EXT_SINK: process.env.JUPYTER_EVENTS_EXT_NOTEBOOK_SINK,
        JUPYTER_EVENTS_EXT_SNAPSHOTS: path.join(runDir, 'notebook-snapshots')
      },
      timeout: 120 * 1000,
      reuseExistingServer: !process.env.CI
    }
  ]
};
