import type { ISettingRegistry } from '@jupyterlab/settingregistry';
import type { TranslationBundle } from '@jupyterlab/translation';
import { listIcon } from '@jupyterlab/ui-components';
import type { CommandRegistry } from '@lumino/commands';
import { Widget } from '@lumino/widgets';

import { captureAllowed, type IEventsConsent } from '../consent/keeper';
import type { IEventsClient } from '../tokens';

/**
 * The status-bar item: whether UI actions are recorded (and the consent
 * behind it), how many events wait to be sent, and whether the server takes
 * them. Clicking it opens the Event Viewer.
 */
export class EventsStatus extends Widget {
  constructor(options: EventsStatus.IOptions) {
    super();
    this._client = options.client;
    this._consent = options.consent ?? null;
    this._settings = options.settings ?? null;
    this._commands = options.commands;
    this._trans = options.trans;
    this.addClass('jp-mod-highlighted');
    this.addClass('jp-EventsStatus');
    this.node.setAttribute('role', 'button');
    this.node.tabIndex = 0;
    this.node.appendChild(
      listIcon.element({
        tag: 'span',
        stylesheet: 'statusBar',
        elementPosition: 'center'
      })
    );
    this._text.className = 'jp-StatusBar-TextItem jp-EventsStatus-text';
    this.node.appendChild(this._text);
    this.node.addEventListener('click', this._open);
    this.node.addEventListener('keydown', this._onKeyDown);

    this._client.stateChanged.connect(this.refresh, this);
    this._consent?.changed.connect(this.refresh, this);
    this._settings?.changed.connect(this.refresh, this);
    this.refresh();
  }

  /**
   * What the item says now.
   */
  get summary(): EventsStatus.ISummary {
    return this._summary;
  }

  /**
   * Say the current state again.
   */
  refresh(): void {
    const trans = this._trans;
    const state = this._client.state;
    const composite = this._settings?.composite ?? {};
    const mode = (composite.consent ?? this._consent?.mode) as
      IEventsConsent.Mode | undefined;
    const decision = this._consent?.decision ?? null;
    const capturing =
      composite.capture !== false && captureAllowed(mode, this._consent);

    let capture: string;
    let captureTitle: string;
    if (capturing) {
      capture =
        mode === 'opt-in'
          ? trans.__('Recording (you agreed)')
          : trans.__('Recording');
      captureTitle = trans.__(
        'Your UI actions are recorded as events, as the Events settings say.'
      );
    } else if (composite.capture === false) {
      capture = trans.__('Not recording');
      captureTitle = trans.__(
        'The capture of UI actions is off in the Events settings.'
      );
    } else if (decision === 'declined') {
      capture = trans.__('Not recording (declined)');
      captureTitle = trans.__(
        'You declined: none of your UI actions are recorded.'
      );
    } else {
      capture = trans.__('Not recording (no consent yet)');
      captureTitle = trans.__(
        'None of your UI actions are recorded until you agree.'
      );
    }

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

    const text = [capture, waiting, connection].join(' · ');
    const title = [
      captureTitle,
      waitingTitle,
      connectionTitle,
      trans.__('Click to open the Event Viewer.')
    ].join('\n');
    this._summary = {
      capturing,
      waiting: state.waiting,
      connected: state.connected,
      text,
      title
    };
    this._text.textContent = text;
    this.node.title = title;
    this.node.setAttribute('aria-label', title);
    this.node.dataset.capturing = String(capturing);
    this.node.dataset.connected = String(state.connected);
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._client.stateChanged.disconnect(this.refresh, this);
    this._consent?.changed.disconnect(this.refresh, this);
    this._settings?.changed.disconnect(this.refresh, this);
    super.dispose();
  }

  private _open = (): void => {
    void this._commands.execute(EventsStatus.OPEN_VIEWER);
  };

  private _onKeyDown = (event: KeyboardEvent): void => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      this._open();
    }
  };

  private _client: IEventsClient;
  private _consent: IEventsConsent | null;
  private _settings: ISettingRegistry.ISettings | null;
  private _commands: CommandRegistry;
  private _trans: TranslationBundle;
  private _text = document.createElement('span');
  private _summary!: EventsStatus.ISummary;
}

export namespace EventsStatus {
  /**
   * The command a click runs.
   */
  export const OPEN_VIEWER = 'jupyter-events-ext:open-viewer';

  export interface IOptions {
    client: IEventsClient;
    /**
     * The user's consent; without it, the opt-in mode records nothing.
     */
    consent?: IEventsConsent | null;
    /**
     * The Events settings (`capture`, `consent`); all on when absent.
     */
    settings?: ISettingRegistry.ISettings | null;
    commands: CommandRegistry;
    trans: TranslationBundle;
  }

  export interface ISummary {
    /**
     * Whether UI actions are recorded.
     */
    capturing: boolean;
    waiting: number;
    connected: boolean;
    /**
     * The item's text.
     */
    text: string;
    /**
     * Its tooltip, one sentence a line.
     */
    title: string;
  }
}

namespace Private {
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
