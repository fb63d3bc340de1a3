import { Notification } from '@jupyterlab/apputils';
import type { IStateDB } from '@jupyterlab/statedb';
import type { TranslationBundle } from '@jupyterlab/translation';
import type { CommandRegistry } from '@lumino/commands';
import { type JSONObject, PromiseDelegate } from '@lumino/coreutils';
import type { IDisposable } from '@lumino/disposable';
import { type ISignal, Signal } from '@lumino/signaling';

import { DEFAULT_CONFIG, KINDS } from '../settings/config';
import { kindLabels } from '../settings/labels';
import { captureAllowed } from '../settings/recording';
import type { IEventsClient, IEventsConsent, IEventsSettings } from '../tokens';

/**
 * The schema of the event that records a decision.
 */
export const CONSENT_SCHEMA =
  'https://events.jupyter.org/jupyter_events_ext/consent/v1';

/**
 * Tells the user what is recorded, or asks them first, as the `consent`
 * setting says; remembers what they saw and decided (in the state database)
 * and records each decision as an event.
 */
export class ConsentKeeper implements IEventsConsent, IDisposable {
  constructor(options: ConsentKeeper.IOptions) {
    this._client = options.client;
    this._state = options.state ?? null;
    this._commands = options.commands;
    this._trans = options.trans;
    this._shown = options.shown ?? Promise.resolve();
    Notification.manager.changed.connect(this._onNotification, this);
    void this._restore();
  }

  get mode(): IEventsConsent.Mode {
    return this._mode;
  }

  get decision(): IEventsConsent.Decision | null {
    return this._decision;
  }

  get allowsCapture(): boolean {
    // Nothing is decided before the remembered decision is read.
    return captureAllowed(this._mode, this);
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get ready(): Promise<void> {
    return this._restored.promise;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Whether the notice was seen (dismissed or acted on) once.
   */
  get noticeSeen(): boolean {
    return this._noticeSeen;
  }

  /**
   * The id of the notification on show (notice or question), if any.
   */
  get notificationId(): string | null {
    return this._notificationId;
  }

  /**
   * Apply the settings: the mode, whether capture is on at all, and the kinds
   * of action captured (for the notification to name). Shows the notice or
   * asks, when the mode says and it was not done before.
   */
  configure(options: ConsentKeeper.IConfig): void {
    const before = this.allowsCapture;
    const modeChanged = options.mode !== this._mode;
    this._mode = options.mode;
    this._capture = options.capture;
    this._kinds = [...options.kinds];
    if (modeChanged || before !== this.allowsCapture) {
      this._changed.emit();
    }
    void this._prompt();
  }

  /**
   * Record the user's decision: remembered, and posted as a consent event
   * (whatever it is, so that research data can prove it).
   */
  async decide(decision: IEventsConsent.Decision): Promise<void> {
    await this._restored.promise;
    const previous = this._decision;
    if (previous === decision) {
      return;
    }
    this._decision = decision;
    this._changed.emit();
    await this._save();
    const data: JSONObject = { decision };
    if (previous !== null) {
      data.previous = previous;
    }
    try {
      await this._client.emit(CONSENT_SCHEMA, data, 1);
    } catch (reason) {
      console.warn('jupyter-events-ext: cannot record the decision', reason);
    }
  }

  /**
   * Ask for the user's decision (again): the question with Agree and Decline.
   */
  ask(): void {
    if (this._showing === 'question') {
      // Asked again while asking: one question on screen, not a new one
      // replacing it (Toastify shows both while the old one fades out).
      return;
    }
    this._dismiss();
    const question = Private.fit(
      this._kinds,
      this._trans,
      kinds =>
        this._trans.__(
          'Record your actions (%1) on this Jupyter server? Nothing is recorded unless you agree.',
          kinds
        ),
      this._trans.__(
        'Record your actions on this Jupyter server? Nothing is recorded unless you agree.'
      )
    );
    this._notificationId = Notification.info(question, {
      autoClose: false,
      actions: [
        {
          label: this._trans.__('Agree'),
          caption: this._trans.__('Record my actions from now on'),
          displayType: 'accent',
          callback: () => void this.decide('agreed')
        },
        {
          label: this._trans.__('Decline'),
          caption: this._trans.__('Record none of my actions'),
          callback: () => void this.decide('declined')
        },
        this._detailsAction(true)
      ]
    });
    this._showing = 'question';
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._dismiss();
    Signal.clearData(this);
  }

  /**
   * Show what the mode calls for and was not shown yet.
   */
  private async _prompt(): Promise<void> {
    await Promise.all([this._restored.promise, this._shown]);
    if (this._isDisposed) {
      return;
    }
    const wanted =
      !this._capture || this._mode === 'none'
        ? null
        : this._mode === 'notice'
          ? this._noticeSeen
            ? null
            : 'notice'
          : this._decision === null
            ? 'question'
            : null;
    if (wanted === this._showing) {
      return;
    }
    this._dismiss();
    if (wanted === 'notice') {
      this._notice();
    } else if (wanted === 'question') {
      this.ask();
    }
  }

  private _notice(): void {
    this._notificationId = Notification.info(
      Private.fit(
        this._kinds,
        this._trans,
        kinds =>
          this._trans.__(
            'JupyterLab records your actions here (%1) as events on this Jupyter server.',
            kinds
          ),
        this._trans.__(
          'JupyterLab records your actions here as events on this Jupyter server.'
        )
      ),
      {
        autoClose: false,
        actions: [
          this._detailsAction(false),
          {
            label: this._trans.__('Settings'),
            caption: this._trans.__('Choose what is recorded'),
            callback: () =>
              void this._commands.execute(Private.OPEN_SETTINGS, {
                query: 'Events'
              })
          }
        ]
      }
    );
    this._showing = 'notice';
  }

  /**
   * The action that opens the Event Viewer; it leaves a question open.
   */
  private _detailsAction(keepOpen: boolean): Notification.IAction {
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

  private _dismiss(): void {
    const id = this._notificationId;
    this._notificationId = null;
    this._showing = null;
    if (id !== null) {
      Notification.dismiss(id);
    }
  }

  /**
   * The notice is seen once the user dismisses it or acts on it.
   */
  private _onNotification(_: unknown, change: Notification.IChange): void {
    if (
      change.type !== 'removed' ||
      change.notification.id !== this._notificationId
    ) {
      return;
    }
    const was = this._showing;
    this._notificationId = null;
    this._showing = null;
    if (was === 'notice' && !this._noticeSeen) {
      this._noticeSeen = true;
      void this._save();
    }
  }

  private async _restore(): Promise<void> {
    try {
      const saved = (await this._state?.fetch(Private.STATE_KEY)) as
        Private.ISaved | undefined;
      this._noticeSeen = saved?.noticeSeen === true;
      if (saved?.decision === 'agreed' || saved?.decision === 'declined') {
        this._decision = saved.decision;
      }
    } catch (reason) {
      console.warn('jupyter-events-ext: cannot read the consent', reason);
    }
    const before = this.allowsCapture;
    this._restored.resolve();
    if (before !== this.allowsCapture || this._decision !== null) {
      this._changed.emit();
    }
  }

  private async _save(): Promise<void> {
    const saved: Private.ISaved = {
      noticeSeen: this._noticeSeen,
      decision: this._decision
    };
    try {
      await this._state?.save(Private.STATE_KEY, saved);
    } catch (reason) {
      console.warn('jupyter-events-ext: cannot remember the consent', reason);
    }
  }

  private _client: IEventsClient;
  private _state: IStateDB | null;
  private _commands: CommandRegistry;
  private _trans: TranslationBundle;
  private _shown: Promise<unknown>;
  private _mode: IEventsConsent.Mode = 'notice';
  private _capture = true;
  private _kinds: string[] = [];
  private _decision: IEventsConsent.Decision | null = null;
  private _noticeSeen = false;
  private _notificationId: string | null = null;
  private _showing: 'notice' | 'question' | null = null;
  private _restored = new PromiseDelegate<void>();
  private _changed = new Signal<this, void>(this);
  private _isDisposed = false;
}

export namespace ConsentKeeper {
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

  export interface IOptions {
    /**
     * The client the decisions are recorded with.
     */
    client: IEventsClient;
    /**
     * Where what the user saw and decided is remembered; in memory only (for
     * this page) when absent.
     */
    state?: IStateDB | null;
    /**
     * The commands the notifications' actions run.
     */
    commands: CommandRegistry;
    trans: TranslationBundle;
    /**
     * Resolves when notifications can be shown (the application restored).
     */
    shown?: Promise<unknown>;
  }

  export interface IConfig {
    mode: IEventsConsent.Mode;
    /**
     * Whether the capture of UI actions is on at all (the `capture` setting).
     */
    capture: boolean;
    /**
     * The kinds of action captured, as the notifications name them.
     */
    kinds: ReadonlyArray<string>;
  }
}

namespace Private {
  export const STATE_KEY = 'jupyter-events-ext:consent';

  export const OPEN_VIEWER = 'jupyter-events-ext:open-viewer';

  export const OPEN_SETTINGS = 'settingeditor:open';

  /**
   * What the state database keeps.
   */
  export interface ISaved extends JSONObject {
    noticeSeen: boolean;
    decision: IEventsConsent.Decision | null;
  }

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
