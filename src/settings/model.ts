import type { ISettingRegistry } from '@jupyterlab/settingregistry';
import { JSONExt } from '@lumino/coreutils';
import { DisposableDelegate, type IDisposable } from '@lumino/disposable';
import { type ISignal, Signal } from '@lumino/signaling';

import type { IEventsConsent, IEventsSettings } from '../tokens';
import { parseSettings } from './config';
import { pathModeOf, recordingOf } from './recording';

/**
 * The settings model: the plugin's settings, read once each time they change
 * (the operator's locks are applied by the registry's transform before), and
 * what this browser records now, the user's consent taken into account.
 */
export class EventsSettings implements IEventsSettings, IDisposable {
  /**
   * Follow the plugin's settings; without any (JupyterLab without a setting
   * registry), the defaults are in force.
   */
  constructor(options: EventsSettings.IOptions = {}) {
    const source = options.settings ?? null;
    if (source === null) {
      this._config = parseSettings({});
      this._recording = recordingOf(this._config, null);
      this._ready = Promise.resolve();
      return;
    }
    this._ready = Promise.resolve(source).then(
      settings => {
        if (this._isDisposed) {
          return;
        }
        this._settings = settings;
        settings.changed.connect(this._read, this);
        this._read();
      },
      reason => {
        // Unknown settings record nothing: `config` stays null.
        console.error('jupyter-events-ext: cannot load the settings', reason);
      }
    );
  }

  get config(): IEventsSettings.IConfig | null {
    return this._config;
  }

  get recording(): IEventsSettings.IRecording | null {
    return this._recording;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get ready(): Promise<void> {
    return this._ready;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  isRecorded(kind: IEventsSettings.Kind): boolean {
    const recording = this._recording;
    return recording !== null && recording.capture && recording[kind];
  }

  useConsent(consent: IEventsConsent): IDisposable {
    this._consent?.changed.disconnect(this._onConsentChanged, this);
    this._consent = consent;
    consent.changed.connect(this._onConsentChanged, this);
    this._update();
    return new DisposableDelegate(() => {
      if (this._consent === consent) {
        consent.changed.disconnect(this._onConsentChanged, this);
        this._consent = null;
        this._update();
      }
    });
  }

  useServerPathMode(
    mode: Promise<IEventsSettings.PathMode | null>
  ): Promise<void> {
    // No path until the server has said how protected they must be.
    this._serverPathMode = 'omitted';
    this._update();
    return mode
      .catch(() => null)
      .then(value => {
        this._serverPathMode = pathModeOf(value);
        this._update();
      });
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._settings?.changed.disconnect(this._read, this);
    this._consent?.changed.disconnect(this._onConsentChanged, this);
    Signal.clearData(this);
  }

  /**
   * Parse the settings again; a change that changes nothing in force (a
   * locked setting set by the user) is no change.
   */
  private _read(): void {
    const config = parseSettings(this._settings!.composite);
    if (!JSONExt.deepEqual(config as any, this._config as any)) {
      this._config = config;
      this._update(true);
    }
  }

  private _onConsentChanged(): void {
    this._update();
  }

  private _update(configChanged = false): void {
    const config = this._config;
    const recording = config
      ? recordingOf(config, this._consent, this._serverPathMode)
      : null;
    if (
      configChanged ||
      !JSONExt.deepEqual(recording as any, this._recording as any)
    ) {
      this._recording = recording;
      this._changed.emit();
    }
  }

  private _changed = new Signal<this, void>(this);
  private _config: IEventsSettings.IConfig | null = null;
  private _consent: IEventsConsent | null = null;
  private _isDisposed = false;
  private _ready: Promise<void>;
  private _recording: IEventsSettings.IRecording | null = null;
  private _serverPathMode: IEventsSettings.PathMode | null = null;
  private _settings: ISettingRegistry.ISettings | null = null;
}

/**
 * The statics of the settings model.
 */
export namespace EventsSettings {
  export interface IOptions {
    /**
     * The plugin's settings, or the promise of them (a promise that rejects
     * leaves them unknown: nothing is recorded); the defaults when omitted.
     */
    settings?:
      ISettingRegistry.ISettings | Promise<ISettingRegistry.ISettings> | null;
  }
}
