import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';

import type { JSONObject } from '@lumino/coreutils';
import { load } from 'js-yaml';

import type { IEventsClient } from '../tokens';

/**
 * The schemas the server ships (UI actions, consent), as `GET schemas` lists
 * them: a FakeServer given these validates like the real one.
 */
export function shippedSchemas(): IEventsClient.ISchema[] {
  const root = join(__dirname, '../../jupyter_events_ext/server/event_schemas');
  return readdirSync(root).map(name => {
    const schema = load(
      readFileSync(join(root, name, 'v1.yaml'), 'utf8')
    ) as JSONObject;
    return {
      id: schema.$id as string,
      version: schema.version as string,
      client: true,
      schema
    };
  });
}
