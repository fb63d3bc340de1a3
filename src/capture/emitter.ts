import type { ISessionContext } from '@jupyterlab/apputils';
import type { DocumentRegistry } from '@jupyterlab/docregistry';
import { type JSONObject, PromiseDelegate } from '@lumino/coreutils';

import type { IEventsClient } from '../tokens';
import {
  type ICaptureConfig,
  type Kind,
  SCHEMAS,
  type SchemaName,
  VERSION
} from './config';
import { NotebookOptOut } from './optout';
import type { PathTreatment } from './paths';
import type { RateLimiter } from './ratelimit';

/**
 * What every kind of capture shares: whether its kind is on, the path
 * treatment, the rate limit, the per-notebook opt-out and the client.
 */
export class CaptureEmitter {
  constructor(options: CaptureEmitter.IOptions) {
    this._client = options.client;
    this._config = options.config;
    this.paths = options.paths;
    this.limiter = options.limiter;
  }

  /**
   * The path treatment.
   */
  readonly paths: PathTreatment;

  /**
   * The per-kind rate limit.
   */
  readonly limiter: RateLimiter<Kind>;

  /**
   * The configuration in force.
   */
  get config(): ICaptureConfig {
    return this._config();
  }

  /**
   * Whether this kind is captured now.
   */
  capturing(kind: Kind): boolean {
    const config = this._config();
    return config.enabled && config[kind];
  }

  /**
   * Whether capture is off for the document of this context (its notebook's
   * metadata says so and operators let it).
   */
  optedOut(context: DocumentRegistry.Context | null | undefined): boolean {
    return (
      !!context &&
      this._config().notebookOptOut &&
      NotebookOptOut.isOptedOut(context.model)
    );
  }

  /**
   * Record an event of a kind, within that kind's rate limit.
   */
  emit(kind: Kind, schema: SchemaName, data: JSONObject): void {
    if (!this.limiter.admit(kind)) {
      return;
    }
    if (this._held) {
      this._held.push({ schema, data });
      return;
    }
    this._send(schema, data);
  }

  /**
   * Hold paths, and the events recorded meanwhile (in order, in this page's
   * memory), until the path policy in force is known: then each goes with its
   * paths as that policy says. Events are sent when they are released, so
   * they carry that time, a request's time after they happened.
   *
   * If the page goes away first (the client's `leaving`), they go at once,
   * with their paths as the policy in force says then (before the server has
   * said, none), so that the client stores and posts them with the rest.
   *
   * @param known - settles once the policy in force (the settings model's
   *   answer, with the server's) and the key to hash paths with are known
   */
  holdPathsUntil(known: Promise<unknown>): void {
    if (this._held) {
      return;
    }
    this._held = [];
    this._released = new PromiseDelegate<void>();
    this.paths.hold();
    this._client.leaving.connect(this._release, this);
    void known.catch(() => undefined).then(() => this._release());
  }

  private _release(): void {
    this._client.leaving.disconnect(this._release, this);
    const held = this._held;
    if (!held) {
      return;
    }
    this._held = null;
    const resolve = this.paths.release();
    for (const { schema, data } of held) {
      this._send(schema, resolve(data));
    }
    this._released?.resolve();
  }

  /**
   * Settles once nothing captured is held (at once when nothing was).
   */
  get released(): Promise<void> {
    return this._released?.promise ?? Promise.resolve();
  }

  private _send(schema: SchemaName, data: JSONObject): void {
    this._client.emit(SCHEMAS[schema], data, VERSION).catch(reason => {
      // Only a server without the UI-action schemas gets here: say it once.
      if (!this._warned.has(schema)) {
        this._warned.add(schema);
        console.warn(`jupyter-events-ext: cannot record "${schema}"`, reason);
      }
    });
  }

  /**
   * The fields naming a notebook (as the path mode says) and its kernel.
   */
  notebookFields(
    context: DocumentRegistry.Context,
    sessionContext?: ISessionContext
  ): JSONObject {
    const data = this.paths.fields('notebook', context.localPath);
    const kernelName = sessionContext?.session?.kernel?.name;
    if (kernelName) {
      data.kernel_name = kernelName;
    }
    return data;
  }

  private _client: IEventsClient;
  private _config: () => ICaptureConfig;
  private _held: { schema: SchemaName; data: JSONObject }[] | null = null;
  private _released: PromiseDelegate<void> | null = null;
  private _warned = new Set<string>();
}

export namespace CaptureEmitter {
  export interface IOptions {
    client: IEventsClient;
    config: () => ICaptureConfig;
    paths: PathTreatment;
    limiter: RateLimiter<Kind>;
  }
}
