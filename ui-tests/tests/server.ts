import { ChildProcess, spawn } from 'child_process';
import { createServer } from 'net';
import * as path from 'path';

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
    private readonly _env: Record<string, string>
  ) {}

  /**
   * Start a server with a configuration file of `ui-tests/`
   * (`jupyter_server_test_config.py` by default); `args` go to `jupyter lab`
   * after it, `env` to its environment.
   */
  static async start(
    options: {
      config?: string;
      args?: string[];
      env?: Record<string, string>;
    } = {}
  ): Promise<JupyterServer> {
    const server = new JupyterServer(
      await freePort(),
      options.config ?? 'jupyter_server_test_config.py',
      options.args ?? [],
      options.env ?? {}
    );
    await server._start();
    return server;
  }

  /**
   * The base URL, with a trailing slash.
   */
  get url(): string {
    return `http://localhost:${this.port}/`;
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
