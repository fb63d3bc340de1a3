import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IStateDB } from '@jupyterlab/statedb';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { IEventsClient, IEventsConsent, IEventsSettings } from '../tokens';
import { ConsentKeeper } from './keeper';
import { ConsentNotifications } from './notifications';

/**
 * The command that asks the user's consent again (in the opt-in mode).
 */
const CHANGE_CONSENT = 'jupyter-events-ext:change-consent';

/**
 * The notice of what is recorded, or the question asked first, as the
 * `consent` setting says. The user's decision goes to the settings model,
 * which says what is recorded.
 */
export const consentPlugin: JupyterFrontEndPlugin<IEventsConsent> = {
  id: 'jupyter-events-ext:consent',
  description:
    'Tells users what is recorded (a notification on first run) or asks their consent first, as the "consent" setting says; records each decision as an event.',
  autoStart: true,
  provides: IEventsConsent,
  requires: [IEventsClient, IEventsSettings],
  optional: [IStateDB, ITranslator, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    client: IEventsClient,
    settings: IEventsSettings,
    state: IStateDB | null,
    translator: ITranslator | null,
    palette: ICommandPalette | null
  ): IEventsConsent => {
    const trans = (translator ?? nullTranslator).load('jupyter_events_ext');
    const keeper = new ConsentKeeper({
      client,
      state,
      commands: app.commands,
      appName: app.name,
      trans,
      shown: app.restored
    });
    app.commands.addCommand(CHANGE_CONSENT, {
      label: trans.__('Consent to Recording My Actions…'),
      caption: trans.__(
        'Agree or decline to have your UI actions recorded as events'
      ),
      isEnabled: () => keeper.mode === 'opt-in',
      execute: () => keeper.ask()
    });
    palette?.addItem({
      command: CHANGE_CONSENT,
      category: trans.__('Events')
    });
    keeper.changed.connect(() =>
      app.commands.notifyCommandChanged(CHANGE_CONSENT)
    );
    // The mode and what to name come from the settings in force; nothing is
    // said while they are unknown.
    let config: IEventsSettings.IConfig | null = null;
    const configure = () => {
      const next = settings.config;
      if (next && next !== config) {
        config = next;
        keeper.configure({
          mode: next.consent,
          capture: next.capture.enabled,
          kinds: ConsentNotifications.kindsOf(next.capture, trans)
        });
      }
    };
    configure();
    settings.changed.connect(configure);
    settings.useConsent(keeper);
    return keeper;
  }
};
