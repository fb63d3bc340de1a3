import type { ReadonlyJSONObject } from '@lumino/coreutils';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import Ajv2019 from 'ajv/dist/2019';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

import type { IEventsClient } from '../tokens';

/**
 * Validates events in the browser against the schemas the server lists.
 *
 * Each schema version is compiled once, the first time an event of it is
 * validated; validating is then a call to ajv's generated function.
 */
export class SchemaValidator {
  /**
   * Create a validator.
   *
   * @param schemas - the schemas, as `GET jupyter-events-ext/schemas` lists them
   */
  constructor(schemas: ReadonlyArray<IEventsClient.ISchema> = []) {
    this.update(schemas);
  }

  /**
   * The schemas known to the validator.
   */
  get schemas(): ReadonlyArray<IEventsClient.ISchema> {
    return this._schemas;
  }

  /**
   * Replace the known schemas; versions whose content did not change keep
   * their compiled function.
   */
  update(schemas: ReadonlyArray<IEventsClient.ISchema>): void {
    const compiled = new Map<string, ValidateFunction>();
    const byId = new Map<string, IEventsClient.ISchema[]>();
    for (const schema of schemas) {
      const key = Private.key(schema);
      const previous = this._compiled.get(key);
      if (
        previous &&
        this._sources.get(key) === JSON.stringify(schema.schema)
      ) {
        compiled.set(key, previous);
      }
      const versions = byId.get(schema.id) ?? [];
      versions.push(schema);
      byId.set(schema.id, versions);
    }
    for (const versions of byId.values()) {
      versions.sort((a, b) => Private.compareVersions(b.version, a.version));
    }
    this._schemas = schemas;
    this._byId = byId;
    this._compiled = compiled;
    this._sources = new Map(
      schemas.map(schema => [
        Private.key(schema),
        JSON.stringify(schema.schema)
      ])
    );
  }

  /**
   * Every listed version of a schema, newest first.
   */
  versions(schemaId: string): ReadonlyArray<IEventsClient.ISchema> {
    return this._byId.get(schemaId) ?? [];
  }

  /**
   * Find a schema version.
   *
   * @param schemaId - the schema's `$id`
   * @param version - the version; the newest when omitted
   */
  find(
    schemaId: string,
    version?: number | string
  ): IEventsClient.ISchema | undefined {
    const versions = this._byId.get(schemaId);
    if (!versions) {
      return undefined;
    }
    if (version === undefined) {
      return versions[0];
    }
    const wanted = String(version);
    return versions.find(schema => String(schema.version) === wanted);
  }

  /**
   * Check an event against its schema.
   *
   * @returns the schema version the event was checked against
   * @throws {@link EventValidationError} saying what is wrong
   */
  validate(
    schemaId: string,
    data: ReadonlyJSONObject,
    version?: number | string
  ): IEventsClient.ISchema {
    const schema = this.find(schemaId, version);
    if (!schema) {
      const versions = this._byId.get(schemaId);
      throw new EventValidationError(
        schemaId,
        versions
          ? `Unknown version ${version} of event schema "${schemaId}"; the server has ${versions
              .map(v => v.version)
              .join(', ')}.`
          : `Unknown event schema "${schemaId}": the server has not registered it.`
      );
    }
    if (!schema.client) {
      throw new EventValidationError(
        schemaId,
        `The server does not accept "${schemaId}" events from browsers.`
      );
    }
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      throw new EventValidationError(
        schemaId,
        `Invalid "${schemaId}" event: data must be an object.`
      );
    }
    for (const key in data) {
      if (key.startsWith('__')) {
        throw new EventValidationError(
          schemaId,
          `Invalid "${schemaId}" event: data must not have the reserved property '${key}'.`
        );
      }
    }
    const validate = this._compile(schema);
    if (!validate(data)) {
      const errors = validate.errors ?? [];
      throw new EventValidationError(
        schemaId,
        `Invalid "${schemaId}" event (version ${schema.version}): ${Private.errorsText(errors)}.`,
        errors
      );
    }
    return schema;
  }

  private _compile(schema: IEventsClient.ISchema): ValidateFunction {
    const key = Private.key(schema);
    let validate = this._compiled.get(key);
    if (!validate) {
      try {
        validate = Private.ajvFor(schema.schema).compile(
          schema.schema as Record<string, unknown>
        );
      } catch (error) {
        throw new EventValidationError(
          schema.id,
          `The schema "${schema.id}" (version ${schema.version}) cannot be compiled: ${(error as Error).message}`
        );
      }
      this._compiled.set(key, validate);
    }
    return validate;
  }

  private _byId = new Map<string, IEventsClient.ISchema[]>();
  private _compiled = new Map<string, ValidateFunction>();
  private _schemas: ReadonlyArray<IEventsClient.ISchema> = [];
  private _sources = new Map<string, string>();
}

/**
 * The error an invalid event is rejected with; its message is ajv's.
 */
export class EventValidationError extends Error {
  constructor(
    readonly schemaId: string,
    message: string,
    readonly errors: ReadonlyArray<ErrorObject> = []
  ) {
    super(message);
    this.name = 'EventValidationError';
  }
}

namespace Private {
  /**
   * The cache key of a schema version.
   */
  export function key(schema: IEventsClient.ISchema): string {
    return `${schema.id}\u0000${schema.version}`;
  }

  /**
   * Order versions numerically when both are numbers, as text otherwise.
   */
  export function compareVersions(
    a: number | string,
    b: number | string
  ): number {
    const x = Number(a);
    const y = Number(b);
    if (!Number.isNaN(x) && !Number.isNaN(y)) {
      return x - y;
    }
    return String(a).localeCompare(String(b));
  }

  /**
   * ajv's messages joined, naming the event's root `data`.
   */
  export function errorsText(errors: ReadonlyArray<ErrorObject>): string {
    return errors
      .map(
        error => `data${error.instancePath} ${error.message ?? 'is invalid'}`
      )
      .join(', ');
  }

  /**
   * The ajv instance for a schema's dialect, created once.
   */
  export function ajvFor(schema: ReadonlyJSONObject): Ajv {
    const dialect = String(schema['$schema'] ?? '');
    const kind = dialect.includes('2020-12')
      ? '2020'
      : dialect.includes('2019-09')
        ? '2019'
        : '7';
    let ajv = instances.get(kind);
    if (!ajv) {
      const options = {
        // Event schemas carry keywords of their own (`version`, `redactionPolicies`).
        strict: false,
        // Two versions of one schema share an `$id`: never register them by it.
        addUsedSchema: false
      };
      ajv =
        kind === '2020'
          ? new Ajv2020(options)
          : kind === '2019'
            ? new Ajv2019(options)
            : new Ajv(options);
      addFormats(ajv);
      instances.set(kind, ajv);
    }
    return ajv;
  }

  const instances = new Map<string, Ajv>();
}
