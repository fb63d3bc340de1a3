import { Notification } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import type { CommandRegistry } from '@lumino/commands';

import { DEFAULT_CONFIG, KINDS } from '../settings/config';
import { kindLabels } from '../settings/labels';
import type { IEventsConsent, IEventsSettings } from '../tokens';

/**
 * What the consent says on screen: the notice of what is recorded and the
 * question asked first, worded to fit a notification, with their actions.
 * When to show them is the keeper's call.
 */
export class ConsentNotifications {
  constructor(options: ConsentNotifications.IOptions) {
    this._commands = options.commands;
    this._trans = options.trans;
    this._appName = options.appName ?? 'JupyterLab';
  }

  /**
   * Show the notice of what is recorded.
   *
   * @param kinds - the kinds of action captured, as `kindsOf` names them
   * @returns the notification's id
   */
  notice(kinds: ReadonlyArray<string>): string {
    const trans = this._trans;
    const message = Private.fit(
      kinds,
      trans,
      list =>
        trans.__(
          '%1 records your actions here (%2) as events on this Jupyter server.',
          this._appName,
          list
        ),
      trans.__(
        '%1 records your actions here as events on this Jupyter server.',
        this._appName
      )
    );
    const actions = [this._details(false)];
    // Not on every page: Jupyter Notebook has its Settings Editor in the tree view only.
    if (this._commands.hasCommand(Private.OPEN_SETTINGS)) {
      actions.push({
        label: trans.__('Settings'),
        caption: trans.__('Choose what is recorded'),
        callback: () =>
          void this._commands.execute(Private.OPEN_SETTINGS, {
            query: 'Events'
          })
      });
    }
    return Notification.info(message, { autoClose: false, actions });
  }

  /**
   * Ask whether the user agrees, with Agree and Decline.
   *
   * @param kinds - the kinds of action captured, as `kindsOf` names them
   * @param decide - told the user's answer
   * @returns the notification's id
   */
  question(
    kinds: ReadonlyArray<string>,
    decide: (decision: IEventsConsent.Decision) => void
  ): string {
    const trans = this._trans;
    const message = Private.fit(
      kinds,
      trans,
      list =>
        trans.__(
          'Record your actions (%1) on this Jupyter server? Nothing is recorded unless you agree.',
          list
        ),
      trans.__(
        'Record your actions on this Jupyter server? Nothing is recorded unless you agree.'
      )
    );
    return Notification.info(message, {
      autoClose: false,
      actions: [
        {
          label: trans.__('Agree'),
          caption: trans.__('Record my actions from now on'),
          displayType: 'accent',
          callback: () => decide('agreed')
        },
        {
          label: trans.__('Decline'),
          caption: trans.__('Record none of my actions'),
          callback: () => decide('declined')
        },
        this._details(true)
      ]
    });
  }

  /**
   * The action that opens the Event Viewer; it leaves a question open.
   */
  private _details(keepOpen: boolean): Notification.IAction {
    return {
      label: this._trans.__('Details'),
      caption: this._trans.__('Open the Event Viewer: what is recorded, live'),
      displayType: 'link',
      callback: event => {
        if (keepOpen) {
          event.preventDefault();
        }
        void this._commands.execute(Private.OPEN_VIEWER);
      }
    };
  }

  private _appName: string;
  private _commands: CommandRegistry;
  private _trans: TranslationBundle;
}

export namespace ConsentNotifications {
  export interface IOptions {
    /**
     * The commands the notifications' actions run.
     */
    commands: CommandRegistry;
    trans: TranslationBundle;
    /**
     * The frontend the notice names (`app.name`: "JupyterLab", "Jupyter
     * Notebook"); "JupyterLab" when absent.
     */
    appName?: string;
  }

  /**
   * The kinds of UI action the capture settings switch on, as the
   * notifications name them (short: a notification shows 140 characters).
   */
  export function kindsOf(
    kinds: Partial<Readonly<Record<IEventsSettings.Kind, unknown>>>,
    trans: TranslationBundle
  ): string[] {
    const labels = kindLabels(trans);
    return KINDS.filter(
      kind => (kinds[kind] ?? DEFAULT_CONFIG[kind]) !== false
    ).map(kind => labels[kind].short);
  }
}

namespace Private {
  export const OPEN_VIEWER = 'jupyter-events-ext:open-viewer';

  export const OPEN_SETTINGS = 'settingeditor:open';

  /**
   * Notifications show 140 characters at most: the message naming every
   * kind when it fits, else naming the first ones and counting the rest,
   * else the short one.
   */
  export function fit(
    kinds: ReadonlyArray<string>,
    trans: TranslationBundle,
    message: (kinds: string) => string,
    short: string
  ): string {
    for (let named = kinds.length; named > 0; named--) {
      const rest = kinds.length - named;
      let list = kinds.slice(0, named).join(trans.__(', '));
      if (rest) {
        list += trans._n(' and %1 more', ' and %1 more', rest);
      }
      const text = message(list);
      if (text.length <= 140) {
        return text;
      }
    }
    return short;
  }
}
