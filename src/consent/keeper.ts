import { Notification } from '@jupyterlab/apputils';
import type { IStateDB } from '@jupyterlab/statedb';
import { type JSONObject, PromiseDelegate } from '@lumino/coreutils';
import type { IDisposable } from '@lumino/disposable';
import { type ISignal, Signal } from '@lumino/signaling';

import { captureAllowed } from '../settings/recording';
import type { IEventsClient, IEventsConsent } from '../tokens';
import { ConsentNotifications } from './notifications';

/**
 * The schema of the event that records a decision.
 */
export const CONSENT_SCHEMA =
  'https://events.jupyter.org/jupyter_events_ext/consent/v1';

/**
 * Tells the user what is recorded, or asks them first, as the `consent`
 * setting says (the words are `ConsentNotifications`'); remembers what they
 * saw and decided (in the state database) and records each decision as an
 * event.
 */
export class ConsentKeeper implements IEventsConsent, IDisposable {
  constructor(options: ConsentKeeper.IOptions) {
    this._client = options.client;
    this._state = options.state ?? null;
    this._notifications = new ConsentNotifications(options);
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
    this._notificationId = this._notifications.question(
      this._kinds,
      decision => void this.decide(decision)
    );
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
      this._notificationId = this._notifications.notice(this._kinds);
      this._showing = 'notice';
    } else if (wanted === 'question') {
      this.ask();
    }
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
  private _notifications: ConsentNotifications;
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
  export interface IOptions extends ConsentNotifications.IOptions {
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

  /**
   * What the state database keeps.
   */
  export interface ISaved extends JSONObject {
    noticeSeen: boolean;
    decision: IEventsConsent.Decision | null;
  }
}
