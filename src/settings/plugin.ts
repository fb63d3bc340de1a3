import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { IEventsSettings } from '../tokens';
import { OperatorLocks } from './locks';
import { EventsSettings } from './model';

/**
 * The id whose settings are the "Events" page of the Settings Editor
 * (`schema/plugin.json`: the client plugin's id, which `overrides.json` and
 * users' settings files name).
 */
export const SETTINGS_ID = 'jupyter-events-ext:plugin';

/**
 * The settings model: the one reader of the setting registry.
 */
export const settingsPlugin: JupyterFrontEndPlugin<IEventsSettings> = {
  id: 'jupyter-events-ext:settings',
  description:
    'Reads the Events settings once, the operator’s locks applied, and says what this browser records now, the user’s consent taken into account.',
  autoStart: true,
  provides: IEventsSettings,
  optional: [ISettingRegistry, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    registry: ISettingRegistry | null,
    translator: ITranslator | null
  ): IEventsSettings => {
    if (!registry) {
      return new EventsSettings();
    }
    // Locks act in the registry, before anything loads the settings (the
    // Settings Editor included: it shows them read-only).
    OperatorLocks.register(
      registry,
      SETTINGS_ID,
      (translator ?? nullTranslator).load('jupyter_events_ext')
    );
    return new EventsSettings({ settings: registry.load(SETTINGS_ID) });
  }
};
