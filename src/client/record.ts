import { UUID } from '@lumino/coreutils';
import type { JSONObject, ReadonlyJSONObject } from '@lumino/coreutils';

import type { IEventsClient } from '../tokens';

/**
 * The record of an event, as it is queued and sent: built here only.
 *
 * Every event gets a client id when it is emitted, so that the server records
 * a retried event once, and the time it was emitted, so that an event sent
 * late keeps the time it happened. An event emitted before the schema list
 * arrived is queued *unchecked*: validated, and its version chosen, only when
 * it is sent.
 */
export namespace EventRecord {
  /**
   * The record of an event validated against `schema`.
   */
  export function checked(
    schema: IEventsClient.ISchema,
    data: ReadonlyJSONObject,
    timestamp: string,
    id = UUID.uuid4()
  ): IEventsClient.IRecord {
    return {
      id,
      schema_id: schema.id,
      version: schema.version,
      data: data as JSONObject,
      timestamp
    };
  }

  /**
   * The record of an event not validated yet; `version` is `null` for the
   * newest the server lists, once it does.
   */
  export function unchecked(
    schemaId: string,
    data: ReadonlyJSONObject,
    version: number | string | undefined,
    timestamp: string
  ): IEventsClient.IRecord {
    const record: IUnchecked = {
      id: UUID.uuid4(),
      schema_id: schemaId,
      version: version ?? null,
      data: data as JSONObject,
      timestamp,
      unchecked: true
    };
    return record as unknown as IEventsClient.IRecord;
  }

  /**
   * The record as it is sent: a checked one as it is, an unchecked one
   * validated now, with the version validation chose and its id and time.
   *
   * @throws the validator's error when the event is invalid
   */
  export function toWire(
    record: IEventsClient.IRecord,
    validate: (
      schemaId: string,
      data: ReadonlyJSONObject,
      version?: number | string
    ) => IEventsClient.ISchema
  ): IEventsClient.IRecord {
    if (!isUnchecked(record)) {
      return record;
    }
    const schema = validate(
      record.schema_id,
      record.data,
      record.version ?? undefined
    );
    return checked(schema, record.data, record.timestamp, record.id);
  }

  /**
   * Whether the record waits to be validated.
   */
  export function isUnchecked(record: IEventsClient.IRecord): boolean {
    return (record as Partial<IUnchecked>).unchecked === true;
  }

  /**
   * An event queued before the schema list arrived.
   */
  interface IUnchecked extends Omit<IEventsClient.IRecord, 'version'> {
    version: number | string | null;
    unchecked: true;
  }
}
