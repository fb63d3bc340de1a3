import { readFileSync } from 'fs';
import * as path from 'path';

import { ISettingRegistry, SettingRegistry } from '@jupyterlab/settingregistry';
import { DataConnector, StateDB } from '@jupyterlab/statedb';
import type { PartialJSONObject } from '@lumino/coreutils';

/**
 * The id of the plugin whose settings are the "Events" page.
 */
export const SETTINGS_ID = 'jupyter-events-ext:plugin';

/**
 * The plugin's schema as it ships (schema/plugin.json).
 */
export function shippedSchema(): ISettingRegistry.ISchema {
  return JSON.parse(
    readFileSync(
      path.resolve(__dirname, '..', '..', 'schema', 'plugin.json'),
      'utf8'
    )
  );
}

/**
 * What JupyterLab's server sends for the plugin's settings: the shipped
 * schema with the defaults `overrides.json` gives (as jupyterlab_server
 * applies them), and the user's settings as they were saved. Saving keeps the
 * raw text in a state database, as the server keeps the user's file.
 */
export class SettingsConnector extends DataConnector<
  ISettingRegistry.IPlugin,
  string
> {
  constructor(private readonly _overrides: PartialJSONObject = {}) {
    super();
  }

  async fetch(id: string): Promise<ISettingRegistry.IPlugin | undefined> {
    if (id !== SETTINGS_ID) {
      return undefined;
    }
    const schema = shippedSchema();
    for (const [key, value] of Object.entries(this._overrides)) {
      schema.properties![key].default = value as any;
    }
    const raw = ((await this._files.fetch(id)) as string | undefined) ?? '{}';
    return {
      id,
      raw,
      schema,
      version: 'test',
      data: { composite: {}, user: {} }
    };
  }

  async list(): Promise<any> {
    return { ids: [SETTINGS_ID], values: [await this.fetch(SETTINGS_ID)] };
  }

  async save(id: string, raw: string): Promise<void> {
    await this._files.save(id, raw);
  }

  /**
   * Write the user's settings as a person would edit their file.
   */
  async setUser(values: PartialJSONObject): Promise<void> {
    await this.save(SETTINGS_ID, JSON.stringify(values));
  }

  /**
   * The users' settings files, by plugin id.
   */
  private _files = new StateDB<string>();
}

/**
 * A real setting registry over a `SettingsConnector`, its plugin list
 * preloaded as JupyterLab does at start-up.
 */
export async function settingRegistry(
  connector: SettingsConnector
): Promise<SettingRegistry> {
  const { values } = await connector.list();
  return new SettingRegistry({ connector, plugins: values });
}
