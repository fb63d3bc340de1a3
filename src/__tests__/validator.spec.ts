import { EventValidationError, SchemaValidator } from '../client/validator';
import { CELL_SCHEMA, SCHEMAS, SERVER_SCHEMA } from './fakeserver';

describe('SchemaValidator', () => {
  const validator = new SchemaValidator(SCHEMAS);

  it('accepts a valid event and names the schema version it matched', () => {
    const schema = validator.validate(CELL_SCHEMA.id, {
      phase: 'finished',
      cell_id: 'a1',
      execution_count: 3,
      success: true,
      duration_ms: 12.5
    });
    expect(schema).toBe(CELL_SCHEMA);
  });

  it.each([
    [{}, "data must have required property 'phase'"],
    [
      { phase: 'paused' },
      'data/phase must be equal to one of the allowed values'
    ],
    [
      { phase: 'started', extra: 1 },
      'data must NOT have additional properties'
    ],
    [
      { phase: 'finished', execution_count: 1.5 },
      'data/execution_count must be integer,null'
    ],
    [{ phase: 'started', success: true }, 'data must NOT be valid']
  ])('rejects %j with ajv’s message', (data, message) => {
    expect(() => validator.validate(CELL_SCHEMA.id, data as any)).toThrow(
      message
    );
  });

  it('rejects with an EventValidationError carrying ajv’s errors', () => {
    let error: unknown;
    try {
      validator.validate(CELL_SCHEMA.id, { phase: 1 } as any);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EventValidationError);
    expect((error as EventValidationError).schemaId).toBe(CELL_SCHEMA.id);
    expect((error as EventValidationError).errors[0].instancePath).toBe(
      '/phase'
    );
  });

  it('refuses unknown schemas, unknown versions and server-only schemas', () => {
    expect(() => validator.validate('https://nope/v1', {})).toThrow(
      'Unknown event schema "https://nope/v1"'
    );
    expect(() =>
      validator.validate(CELL_SCHEMA.id, { phase: 'started' }, 2)
    ).toThrow('Unknown version 2');
    expect(() => validator.validate(SERVER_SCHEMA.id, {})).toThrow(
      'does not accept'
    );
  });

  it('refuses the reserved envelope keys', () => {
    expect(() =>
      validator.validate(CELL_SCHEMA.id, {
        phase: 'started',
        __timestamp__: 'x'
      })
    ).toThrow("reserved property '__timestamp__'");
  });

  it('picks the newest version unless one is named, comparing numerically', () => {
    const v = (version: number) => ({
      ...CELL_SCHEMA,
      version,
      schema: { ...CELL_SCHEMA.schema, version }
    });
    const versions = new SchemaValidator([v(2), v(10), v(9)]);
    expect(versions.find(CELL_SCHEMA.id)?.version).toBe(10);
    expect(versions.find(CELL_SCHEMA.id, '9')?.version).toBe(9);
  });

  it('checks formats (ajv-formats)', () => {
    const dated = new SchemaValidator([
      {
        id: 'https://example.org/dated/v1',
        version: 1,
        client: true,
        schema: {
          $id: 'https://example.org/dated/v1',
          type: 'object',
          properties: { when: { type: 'string', format: 'date-time' } }
        }
      }
    ]);
    expect(() =>
      dated.validate('https://example.org/dated/v1', { when: 'yesterday' })
    ).toThrow('data/when must match format "date-time"');
    dated.validate('https://example.org/dated/v1', {
      when: '2026-11-23T18:36:17Z'
    });
  });

  it('validates 2020-12 schemas with the matching dialect', () => {
    const modern = new SchemaValidator([
      {
        id: 'https://example.org/modern/v1',
        version: 1,
        client: true,
        schema: {
          $schema: 'https://json-schema.org/draft/2020-12/schema',
          $id: 'https://example.org/modern/v1',
          type: 'object',
          properties: {
            tags: { type: 'array', prefixItems: [{ type: 'string' }] }
          }
        }
      }
    ]);
    expect(() =>
      modern.validate('https://example.org/modern/v1', { tags: [1] })
    ).toThrow('data/tags/0 must be string');
  });

  it('compiles each schema version once, and again only when it changes', () => {
    const local = new SchemaValidator([CELL_SCHEMA]);
    const compile = jest.spyOn(local as any, '_compile');
    local.validate(CELL_SCHEMA.id, { phase: 'started' });
    const first = (local as any)._compiled.get(`${CELL_SCHEMA.id}\u00001`);
    local.validate(CELL_SCHEMA.id, { phase: 'started' });
    local.update([{ ...CELL_SCHEMA }]);
    local.validate(CELL_SCHEMA.id, { phase: 'started' });
    expect((local as any)._compiled.get(`${CELL_SCHEMA.id}\u00001`)).toBe(
      first
    );
    local.update([
      { ...CELL_SCHEMA, schema: { ...CELL_SCHEMA.schema, required: [] } }
    ]);
    local.validate(CELL_SCHEMA.id, {});
    expect((local as any)._compiled.get(`${CELL_SCHEMA.id}\u00001`)).not.toBe(
      first
    );
    expect(compile).toHaveBeenCalledTimes(4);
  });
});
