import type { JSONObject } from '@lumino/coreutils';
import { Signal } from '@lumino/signaling';

import { SchemaValidator } from '../client/validator';
import { shippedSchemas } from './shipped';

/**
 * A client for the capture's tests: it validates against the shipped schemas
 * like the real one and keeps what it is given, by schema name.
 */
export class RecordingClient {
  readonly events: { schema: string; data: JSONObject }[] = [];
  serverSettings: any = undefined;
  readonly leaving = new Signal<this, void>(this);
  private _validator = new SchemaValidator(shippedSchemas());

  emit(schemaId: string, data: JSONObject, version?: number | string) {
    this._validator.validate(schemaId, data, version);
    this.events.push({ schema: schemaId.split('/').slice(-2)[0], data });
    return Promise.resolve({ id: 'x', durable: true });
  }

  /**
   * What it was given since the last call, of one schema or all.
   */
  take(schema?: string) {
    const all = this.events.splice(0);
    return schema === undefined ? all : all.filter(e => e.schema === schema);
  }
}
