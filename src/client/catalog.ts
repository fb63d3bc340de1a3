import type { ServerConnection } from '@jupyterlab/services';
import type { ReadonlyJSONObject } from '@lumino/coreutils';

import type { IEventsClient } from '../tokens';
import { reasonOf } from './reason';
import { requestAPI } from './request';
import { SchemaValidator } from './validator';

/**
 * The schemas the server lists (`GET jupyter-events-ext/schemas`), and
 * validation against them. The list of the last page is kept in
 * `localStorage`, so that events can be validated and queued while the
 * server is away.
 */
export class SchemaCatalog {
  constructor(options: SchemaCatalog.IOptions) {
    this._serverSettings = options.serverSettings;
    this._storage = options.storage;
    this._requestTimeout = options.requestTimeout;
    this._onFailure = options.onFailure;
    this._restore();
  }

  /**
   * Whether a list is known (fetched, or kept from an earlier page).
   */
  get known(): boolean {
    return this._known;
  }

  /**
   * The schemas the server lists, fetched once (again when asked to refresh).
   */
  list(
    options: { refresh?: boolean } = {}
  ): Promise<ReadonlyArray<IEventsClient.ISchema>> {
    if (options.refresh || !this._schemas) {
      this._schemas = this._fetch();
    }
    return this._schemas;
  }

  /**
   * The schema of this id and version (the newest when omitted), if listed.
   */
  find(
    schemaId: string,
    version?: number | string
  ): IEventsClient.ISchema | undefined {
    return this._validator.find(schemaId, version);
  }

  /**
   * Whether a browser may post events of this schema id (of some version);
   * `null` while no list is known.
   */
  isPostable(schemaId: string): boolean | null {
    if (!this._known) {
      return null;
    }
    return this._validator.versions(schemaId).some(schema => schema.client);
  }

  /**
   * Validate an event against its schema.
   *
   * @returns the schema, with the version validation chose
   * @throws `EventValidationError` when the event is invalid or its schema
   *   unknown
   */
  validate = (
    schemaId: string,
    data: ReadonlyJSONObject,
    version?: number | string
  ): IEventsClient.ISchema => {
    return this._validator.validate(schemaId, data, version);
  };

  /**
   * Look for a schema the list does not have: a schema registered since the
   * list was fetched is looked for again (for a short while at most, and
   * not more often than every few seconds).
   *
   * @returns whether a list is known to look in
   */
  async lookAgain(): Promise<boolean> {
    if (!this._known || Date.now() - this._fetchedAt <= Private.REFRESH) {
      return this._known;
    }
    return Promise.race([
      this.list({ refresh: true }).then(
        () => true,
        () => true
      ),
      new Promise<boolean>(resolve =>
        setTimeout(() => resolve(false), Private.WAIT)
      )
    ]);
  }

  private _fetch(): Promise<ReadonlyArray<IEventsClient.ISchema>> {
    const fetching = requestAPI<{ schemas: IEventsClient.ISchema[] }>(
      'schemas',
      { signal: Private.timeout(this._requestTimeout) },
      this._serverSettings
    ).then(
      reply => {
        const schemas = reply?.schemas;
        if (!Array.isArray(schemas)) {
          const error = new Error(
            'The server’s reply is not a list of schemas.'
          );
          this._onFailure({
            kind: 'server-error',
            status: null,
            message: `${error.message} Retrying.`
          });
          throw error;
        }
        this._validator.update(schemas);
        this._known = true;
        this._fetchedAt = Date.now();
        this._store(schemas);
        return schemas;
      },
      reason => {
        this._onFailure(reasonOf(reason));
        if (this._schemas === fetching) {
          this._schemas = null;
        }
        throw reason;
      }
    );
    return fetching;
  }

  /**
   * Use the schema list of an earlier page until the server answers.
   */
  private _restore(): void {
    try {
      const cached = this._storage?.getItem(this._storageKey);
      if (cached) {
        this._validator.update(JSON.parse(cached));
        this._known = true;
      }
    } catch {
      // A corrupt or inaccessible cache is only a missed shortcut.
    }
  }

  private _store(schemas: ReadonlyArray<IEventsClient.ISchema>): void {
    try {
      this._storage?.setItem(
        this._storageKey,
        JSON.stringify(schemas.filter(schema => schema.client))
      );
    } catch {
      // Storage full or forbidden: the next page fetches the list again.
    }
  }

  private get _storageKey(): string {
    return `jupyter-events-ext:schemas ${this._serverSettings.baseUrl}`;
  }

  private _fetchedAt = 0;
  private _known = false;
  private _onFailure: (reason: IEventsClient.IReason) => void;
  private _requestTimeout: number;
  private _schemas: Promise<ReadonlyArray<IEventsClient.ISchema>> | null = null;
  private _serverSettings: ServerConnection.ISettings;
  private _storage: Storage | null;
  private _validator = new SchemaValidator();
}

export namespace SchemaCatalog {
  export interface IOptions {
    serverSettings: ServerConnection.ISettings;
    /**
     * Where the list is kept between pages; `null` for nowhere.
     */
    storage: Storage | null;
    /**
     * Milliseconds before a request for the list is given up.
     */
    requestTimeout: number;
    /**
     * Told why the list could not be fetched (the client's state says it).
     */
    onFailure: (reason: IEventsClient.IReason) => void;
  }
}

namespace Private {
  /**
   * How often an unknown schema id may make the list be fetched again.
   */
  export const REFRESH = 10 * 1000;

  /**
   * How long `lookAgain` waits for the list fetched again.
   */
  export const WAIT = 5 * 1000;

  /**
   * A signal that aborts a request after `ms` milliseconds: a request that
   * never ends would hold up every tab's delivery.
   */
  export function timeout(ms: number): AbortSignal {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), ms);
    return controller.signal;
  }
}
