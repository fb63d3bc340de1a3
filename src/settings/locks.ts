import type { ISettingRegistry } from '@jupyterlab/settingregistry';
import type { TranslationBundle } from '@jupyterlab/translation';
import { JSONExt, type PartialJSONObject } from '@lumino/coreutils';
import type { IDisposable } from '@lumino/disposable';

/**
 * The settings an operator locks in `overrides.json`, enforced by the setting
 * registry itself so that every reader, the Settings Editor included, sees the
 * values in force.
 *
 * JupyterLab's server applies `overrides.json` to the schema's defaults; the
 * plugin's `locked` default names the settings whose default is the value in
 * force, whatever a user sets. The schema must say `"jupyter.lab.transform":
 * true`, and the transform must be registered before anything loads the
 * plugin's settings (the registry refuses to load it until then).
 */
export namespace OperatorLocks {
  /**
   * The setting that lists the locked settings; only `overrides.json` sets it.
   */
  export const LIST = 'locked';

  /**
   * Register the transform of `pluginId`'s settings.
   */
  export function register(
    registry: ISettingRegistry,
    pluginId: string,
    trans: TranslationBundle
  ): IDisposable {
    return registry.transform(pluginId, {
      fetch: plugin => fetch(plugin, trans),
      compose
    });
  }

  /**
   * The settings the operator locked: the default of `locked`, less any name
   * the schema does not have.
   */
  export function lockedKeys(schema: ISettingRegistry.ISchema): string[] {
    const properties = schema.properties ?? {};
    const value = properties[LIST]?.default;
    if (!Array.isArray(value)) {
      return [];
    }
    return value.filter(
      (key): key is string =>
        typeof key === 'string' && key !== LIST && key in properties
    );
  }

  /**
   * The `fetch` transform: the schema as the Settings Editor should show it.
   * A locked setting is read-only (its form field disabled) and its
   * description says why; `locked` itself is always read-only.
   */
  export function fetch(
    plugin: ISettingRegistry.IPlugin,
    trans: TranslationBundle
  ): ISettingRegistry.IPlugin {
    const schema = JSONExt.deepCopy(
      plugin.schema as PartialJSONObject
    ) as ISettingRegistry.ISchema;
    const properties = schema.properties ?? {};
    for (const key of lockedKeys(schema)) {
      const property = properties[key];
      properties[key] = {
        ...property,
        readOnly: true,
        description: trans.__(
          'Locked by the operator: this value is in force whatever you set. %1',
          property.description ?? ''
        )
      };
    }
    if (properties[LIST]) {
      properties[LIST] = {
        ...properties[LIST],
        readOnly: true,
        description: trans.__(
          'The settings on this page the operator locked (in overrides.json); only the operator can change this list.'
        )
      };
    }
    return { ...plugin, schema };
  }

  /**
   * The `compose` transform: in the composite, each locked setting and
   * `locked` itself have their default, the operator's value, whatever the
   * user's settings say. The user's settings are left as they are: they apply
   * again once the operator unlocks.
   */
  export function compose(
    plugin: ISettingRegistry.IPlugin
  ): ISettingRegistry.IPlugin {
    const properties = plugin.schema.properties ?? {};
    const composite = { ...plugin.data.composite };
    for (const key of [...lockedKeys(plugin.schema), LIST]) {
      const value = properties[key]?.default;
      if (value === undefined) {
        delete composite[key];
      } else {
        composite[key] = JSONExt.deepCopy(value);
      }
    }
    return { ...plugin, data: { ...plugin.data, composite } };
  }
}
