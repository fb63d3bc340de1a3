import { VDomModel } from '@jupyterlab/ui-components';
import type { TranslationBundle } from '@jupyterlab/translation';

import type { IEventsClient, IEventsSettings } from '../tokens';

/**
 * What the status-bar item says: whether UI actions are recorded (the
 * settings model's answer, consent included), how many events wait to be
 * sent, and whether the server takes them.
 */
export class EventsStatusModel extends VDomModel {
  constructor(options: EventsStatusModel.IOptions) {
    super();
    this._client = options.client;
    this._settings = options.settings;
    this._trans = options.trans;
    this._client.stateChanged.connect(this.refresh, this);
    this._settings.changed.connect(this.refresh, this);
    this._summary = this._summarize();
  }

  /**
   * What the item says now.
   */
  get summary(): EventsStatusModel.ISummary {
    return this._summary;
  }

  /**
   * Say the current state again.
   */
  refresh(): void {
    const summary = this._summarize();
    if (
      summary.text !== this._summary.text ||
      summary.title !== this._summary.title ||
      summary.capturing !== this._summary.capturing ||
      summary.connected !== this._summary.connected
    ) {
      this._summary = summary;
      this.stateChanged.emit();
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._client.stateChanged.disconnect(this.refresh, this);
    this._settings.changed.disconnect(this.refresh, this);
    super.dispose();
  }

  private _summarize(): EventsStatusModel.ISummary {
    const trans = this._trans;
    const state = this._client.state;
    const [capture, captureTitle] = Private.recordingText(
      this._settings.recording,
      trans
    );
    const waiting = trans._n('%1 waiting', '%1 waiting', state.waiting);
    const waitingTitle = trans._n(
      '%1 event waits in this browser to be sent.',
      '%1 events wait in this browser to be sent.',
      state.waiting
    );
    const connection = state.connected
      ? trans.__('connected')
      : Private.shortReason(state.reason, trans);
    const connectionTitle = !state.connected
      ? (state.reason?.message ?? trans.__('The server does not answer.'))
      : state.transport === 'post'
        ? trans.__(
            'The server takes events, by HTTP POST: the events socket could not be used (a proxy that does not pass WebSockets?).'
          )
        : trans.__('The server takes events.');
    return {
      capturing: this._settings.recording?.capture ?? false,
      waiting: state.waiting,
      connected: state.connected,
      text: [capture, waiting, connection].join(' · '),
      title: [
        captureTitle,
        waitingTitle,
        connectionTitle,
        trans.__('Click to open the Event Viewer.')
      ].join('\n')
    };
  }

  private _client: IEventsClient;
  private _settings: IEventsSettings;
  private _summary: EventsStatusModel.ISummary;
  private _trans: TranslationBundle;
}

export namespace EventsStatusModel {
  export interface IOptions {
    client: IEventsClient;
    settings: IEventsSettings;
    trans: TranslationBundle;
  }

  export interface ISummary {
    /**
     * Whether UI actions are recorded.
     */
    readonly capturing: boolean;
    readonly waiting: number;
    readonly connected: boolean;
    /**
     * The item's text.
     */
    readonly text: string;
    /**
     * Its tooltip, one sentence a line.
     */
    readonly title: string;
  }
}

namespace Private {
  /**
   * Whether actions are recorded, in a few words and in a sentence.
   */
  export function recordingText(
    recording: IEventsSettings.IRecording | null,
    trans: TranslationBundle
  ): [string, string] {
    if (recording === null) {
      return [
        trans.__('Not recording (settings not read)'),
        trans.__('Nothing is recorded until the Events settings are read.')
      ];
    }
    switch (recording.reason) {
      case null:
        return [
          recording.consent === 'opt-in'
            ? trans.__('Recording (you agreed)')
            : trans.__('Recording'),
          trans.__(
            'Your UI actions are recorded as events, as the Events settings say.'
          )
        ];
      case 'off':
        return [
          trans.__('Not recording'),
          trans.__('The capture of UI actions is off in the Events settings.')
        ];
      case 'declined':
        return [
          trans.__('Not recording (declined)'),
          trans.__('You declined: none of your UI actions are recorded.')
        ];
      default:
        return [
          trans.__('Not recording (no consent yet)'),
          trans.__('None of your UI actions are recorded until you agree.')
        ];
    }
  }

  /**
   * A reason in a word or two, for the status bar.
   */
  export function shortReason(
    reason: IEventsClient.IReason | null,
    trans: TranslationBundle
  ): string {
    switch (reason?.kind) {
      case 'not-authorized':
        return trans.__('not authorized');
      case 'not-installed':
        return trans.__('no server extension');
      case 'server-error':
        return trans.__('server error');
      default:
        return trans.__('offline');
    }
  }
}
