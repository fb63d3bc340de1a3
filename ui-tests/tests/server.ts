import { ChildProcess, spawn } from 'child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'fs';
import { createServer } from 'net';
import { tmpdir } from 'os';
import * as path from 'path';

import { galata, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { Page } from '@playwright/test';

import { Sink } from './sink';

/**
 * A Jupyter server of its own for a test that stops, restarts or configures
 * it differently from the one Galata shares across tests: same test
 * configuration, its own free port, its own notebook directory and sink.
 */
export class JupyterServer {
  private constructor(
    readonly port: number,
    private readonly _config: string,
    private readonly _args: string[],
    private readonly _env: Record<string, string>,
    private readonly _sinkPath: string | null
  ) {}

  /**
   * Start a server as `options` say.
   */
  static async start(
    options: JupyterServer.IOptions = {}
  ): Promise<JupyterServer> {
    const args = [...(options.args ?? [])];
    const env = { ...options.env };
    let sinkPath: string | null = null;
    if (options.sink || options.overrides) {
      const root = mkdtempSync(path.join(tmpdir(), 'jupyter-events-ext-'));
      if (options.sink) {
        sinkPath = path.join(root, 'events.jsonl');
        env.JUPYTER_EVENTS_EXT_SINK = sinkPath;
      }
      if (options.overrides) {
        // overrides.json in JupyterLab's application settings directory.
        const settingsDir = path.join(root, 'app-settings');
        mkdirSync(settingsDir);
        writeFileSync(
          path.join(settingsDir, 'overrides.json'),
          JSON.stringify(options.overrides)
        );
        args.push(`--LabApp.app_settings_dir=${settingsDir}`);
      }
    }
    const server = new JupyterServer(
      await freePort(),
      options.config ?? 'jupyter_server_test_config.py',
      args,
      env,
      sinkPath
    );
    await server._start();
    return server;
  }

  /**
   * A server for the tests of the `test.describe` this is called in:
   * started before them, stopped after them. The function returned gives
   * it, once started.
   */
  static forTests(options: JupyterServer.IOptions = {}): () => JupyterServer {
    let server: JupyterServer | null = null;
    test.beforeAll(async () => {
      server = await JupyterServer.start(options);
    });
    test.afterAll(async () => {
      await server?.stop();
    });
    return () => {
      if (!server) {
        throw new Error('the server is started before the tests only');
      }
      return server;
    };
  }

  /**
   * The base URL, with a trailing slash.
   */
  get url(): string {
    return `http://localhost:${this.port}/`;
  }

  /**
   * What the server recorded from now on; only with the `sink` option.
   */
  sink(): Sink {
    if (this._sinkPath === null) {
      throw new Error('the server was started without a sink of its own');
    }
    return new Sink(this._sinkPath);
  }

  /**
   * Open JupyterLab of this server in a new page of the browser context of
   * `page` (a test's own page is bound to the server Galata shares), with
   * these settings (Galata's defaults unless given); its notebooks'
   * directory is the root, no test folder.
   */
  async openLab(
    page: Page,
    waitForApplication: Parameters<typeof galata.initTestPage>[11],
    settings: Record<string, unknown> = galata.DEFAULT_SETTINGS
  ): Promise<IJupyterLabPageFixture> {
    const lab = await galata.initTestPage(
      '/lab',
      false,
      this.url,
      true,
      settings,
      true,
      true,
      await page.context().newPage(),
      // No tracking of sessions, terminals and kernels: it proxies the
      // page's requests through routes that throw when the server is down
      // (a restart test's JupyterLab polls terminals meanwhile), and there
      // is nothing to clean up on a server the test stops.
      null,
      null,
      '',
      waitForApplication,
      null,
      true
    );
    await lab.goto();
    return lab;
  }

  /**
   * What the server printed, for when it fails.
   */
  get log(): string {
    return this._log;
  }

  /**
   * Stop the server (SIGTERM, as a person's Ctrl-C would) and wait for it.
   */
  async stop(): Promise<void> {
    const child = this._child;
    this._child = null;
    if (!child || child.exitCode !== null) {
      return;
    }
    const exited = new Promise(resolve => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
    await exited;
    clearTimeout(timer);
  }

  /**
   * Stop the server and start it again on the same port.
   */
  async restart(): Promise<void> {
    await this.stop();
    await this._start();
  }

  private async _start(): Promise<void> {
    this._child = spawn(
      'jupyter',
      [
        'lab',
        '--config',
        path.resolve(__dirname, '..', this._config),
        `--port=${this.port}`,
        '--port-retries=0',
        '--no-browser',
        ...this._args
      ],
      {
        cwd: path.resolve(__dirname, '..'),
        env: { ...process.env, ...this._env },
        stdio: ['ignore', 'pipe', 'pipe']
      }
    );
    const child = this._child;
    child.stdout!.on('data', chunk => (this._log += chunk));
    child.stderr!.on('data', chunk => (this._log += chunk));
    const deadline = Date.now() + 120 * 1000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) {
        throw new Error(`jupyter lab exited:\n${this._log}`);
      }
      try {
        const response = await fetch(`${this.url}lab`);
        if (response.ok) {
          return;
        }
      } catch {
        // Not listening yet.
      }
      await new Promise(resolve => setTimeout(resolve, 250));
    }
    throw new Error(`jupyter lab did not start:\n${this._log}`);
  }

  private _child: ChildProcess | null = null;
  private _log = '';
}

export namespace JupyterServer {
  export interface IOptions {
    /**
     * A configuration file of `ui-tests/` (`jupyter_server_test_config.py`
     * by default).
     */
    config?: string;
    /**
     * What goes to `jupyter lab` after the configuration.
     */
    args?: string[];
    /**
     * What goes to its environment.
     */
    env?: Record<string, string>;
    /**
     * Whether it records into a JSON-lines sink of its own (`sink()` reads
     * it) rather than the one of the server Galata shares.
     */
    sink?: boolean;
    /**
     * What the operator's `overrides.json` says, by plugin id.
     */
    overrides?: Record<string, Record<string, unknown>>;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
