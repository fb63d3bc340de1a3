import { DOMUtils } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { lockIcon } from '@jupyterlab/ui-components';
import type { IDisposable } from '@lumino/disposable';

import { KINDS } from '../settings/config';
import { kindLabels } from '../settings/labels';
import type { IEventsClient, IEventsSettings } from '../tokens';
import { element } from './dom';
import { SchemaCards } from './schemas';

/**
 * "What this browser records", in the Event Viewer: whether UI actions are
 * captured and why not, the kinds and how paths are recorded, the operator's
 * locks, a link to the settings; then what each event holds (the schemas a
 * browser may send). It says what the settings model says.
 */
export class RecordingPanel implements IDisposable {
  constructor(options: RecordingPanel.IOptions) {
    this._trans = options.trans;
    this._onOpenSettings = options.onOpenSettings ?? null;
    this._settings = options.settings ?? null;
    this._cards = new SchemaCards(this._trans);
    const heading = element('h2', 'jp-EventViewer-heading');
    heading.id = DOMUtils.createDomID();
    heading.textContent = this._trans.__('What this browser records');
    this.node.setAttribute('aria-labelledby', heading.id);
    this.node.append(heading, this._summary, this._cards.node);
    if (this._settings) {
      this._settings.changed.connect(this._follow, this);
      this.recording = this._settings.recording;
    } else {
      this.recording = options.recording ?? null;
    }
  }

  /**
   * The panel.
   */
  readonly node = element('section', 'jp-EventViewer-recording');

  /**
   * What this browser records, as shown; `null` when unknown.
   */
  get recording(): IEventsSettings.IRecording | null {
    return this._recording;
  }
  set recording(value: IEventsSettings.IRecording | null) {
    this._recording = value;
    this._render();
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Show what each event this browser may send holds.
   */
  showSchemas(schemas: ReadonlyArray<IEventsClient.ISchema>): void {
    this._cards.show(schemas);
  }

  /**
   * Say that the schemas could not be listed.
   */
  showSchemaError(reason: unknown): void {
    this._cards.showError(reason);
  }

  dispose(): void {
    this._isDisposed = true;
    this._settings?.changed.disconnect(this._follow, this);
  }

  private _follow(settings: IEventsSettings): void {
    this.recording = settings.recording;
  }

  /**
   * The capture kinds on, the path mode and the operator's locks, with a
   * link to the settings.
   */
  private _render(): void {
    const trans = this._trans;
    const node = this._summary;
    node.replaceChildren();
    const recording = this._recording;
    if (!recording) {
      const note = element('p', 'jp-EventViewer-note');
      note.textContent = trans.__(
        'The settings of this browser are not known: see the Settings Editor.'
      );
      node.append(note);
    } else {
      node.append(this._list(recording));
    }
    if (this._onOpenSettings) {
      const open = element(
        'button',
        'jp-EventViewer-openSettings jp-mod-styled jp-mod-link'
      );
      open.type = 'button';
      open.textContent = trans.__('Change these in the settings');
      open.addEventListener('click', () => this._onOpenSettings!());
      node.append(open);
    }
  }

  private _list(recording: IEventsSettings.IRecording): HTMLUListElement {
    const trans = this._trans;
    const locked = new Set(recording.locked);
    const item = (key: string, text: string, on?: boolean) => {
      const li = element('li', 'jp-EventViewer-setting');
      li.dataset.setting = key;
      if (on !== undefined) {
        li.dataset.on = String(on);
      }
      const label = element('span', 'jp-EventViewer-settingText');
      label.textContent = text;
      li.append(label);
      if (locked.has(key)) {
        li.append(Private.lock(trans));
      }
      return li;
    };
    const list = element('ul', 'jp-EventViewer-settingList');
    const capture = item(
      'capture',
      Private.captureText(recording, trans),
      recording.capture
    );
    list.append(capture);
    // Asked first: what agreeing would start is part of the answer.
    const ifAgreed =
      recording.reason === 'no-consent' || recording.reason === 'declined';
    if (!recording.capture && !ifAgreed) {
      return list;
    }
    if (ifAgreed) {
      const lead = element('p', 'jp-EventViewer-ifAgreed');
      lead.textContent = trans.__('If you agree, these are captured:');
      capture.append(lead);
    }
    const kinds = element('ul', 'jp-EventViewer-kinds');
    const labels = kindLabels(trans);
    for (const kind of KINDS) {
      const label = labels[kind].long;
      const on = recording[kind];
      kinds.append(
        item(
          kind,
          on ? trans.__('%1: on', label) : trans.__('%1: off', label),
          on
        )
      );
    }
    capture.append(kinds);
    const paths = item(
      'pathMode',
      Private.pathModeText(recording.pathMode, trans)
    );
    // Say when the mode in force is the server's, not this browser's setting.
    if (recording.serverPathMode === recording.pathMode) {
      const policy = element('span', 'jp-EventViewer-serverPolicy');
      policy.textContent = trans.__("This server's policy requires it.");
      paths.append(policy);
    }
    list.append(paths);
    return list;
  }

  private _cards: SchemaCards;
  private _isDisposed = false;
  private _onOpenSettings: (() => void) | null;
  private _recording: IEventsSettings.IRecording | null = null;
  private _settings: IEventsSettings | null;
  private _summary = element('div', 'jp-EventViewer-settings');
  private _trans: TranslationBundle;
}

export namespace RecordingPanel {
  export interface IOptions {
    trans: TranslationBundle;
    /**
     * The settings model, followed.
     */
    settings?: IEventsSettings | null;
    /**
     * What this browser records, when no settings model is given.
     */
    recording?: IEventsSettings.IRecording | null;
    /**
     * Open the settings (the link under the list).
     */
    onOpenSettings?: (() => void) | null;
  }
}

namespace Private {
  /**
   * Whether UI actions are captured, and why not, as the settings model says.
   */
  export function captureText(
    recording: IEventsSettings.IRecording,
    trans: TranslationBundle
  ): string {
    switch (recording.reason) {
      case null:
        return trans.__('Your actions are captured:');
      case 'no-consent':
        return trans.__('Your actions are not captured until you agree.');
      case 'declined':
        return trans.__('Your actions are not captured: you declined.');
      default:
        return trans.__('Your actions are not captured.');
    }
  }

  export function pathModeText(
    mode: IEventsSettings.PathMode,
    trans: TranslationBundle
  ): string {
    switch (mode) {
      case 'as-is':
        return trans.__('Paths are recorded as they are.');
      case 'omitted':
        return trans.__('Paths are left out.');
      default:
        return trans.__(
          "Paths are recorded hashed with this deployment's secret key."
        );
    }
  }

  /**
   * The mark of a setting the operator locked.
   */
  export function lock(trans: TranslationBundle): HTMLElement {
    const lock = element('span', 'jp-EventViewer-locked');
    lockIcon.element({ container: lock, tag: null });
    const text = trans.__('set by your operator');
    lock.title = text;
    const label = element('span', 'jp-EventViewer-lockText');
    label.textContent = text;
    lock.append(label);
    return lock;
  }
}
