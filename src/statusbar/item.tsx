import type { TranslationBundle } from '@jupyterlab/translation';
import { listIcon, VDomRenderer } from '@jupyterlab/ui-components';
import type { CommandRegistry } from '@lumino/commands';
import React from 'react';

import type { IEventsClient, IEventsSettings } from '../tokens';
import { EventsStatusModel } from './model';

/**
 * The status-bar item: whether UI actions are recorded (and the consent
 * behind it), how many events wait to be sent, and whether the server takes
 * them, drawn from its model. Clicking it opens the Event Viewer.
 */
export class EventsStatus extends VDomRenderer<EventsStatusModel> {
  constructor(options: EventsStatus.IOptions) {
    super(
      new EventsStatusModel({
        client: options.client,
        settings: options.settings,
        trans: options.trans
      })
    );
    this._commands = options.commands;
    this.addClass('jp-mod-highlighted');
    this.addClass('jp-EventsStatus');
    this.node.setAttribute('role', 'button');
    this.node.tabIndex = 0;
    this.node.addEventListener('click', this._open);
    this.node.addEventListener('keydown', this._onKeyDown);
  }

  /**
   * What the item says now.
   */
  get summary(): EventsStatusModel.ISummary {
    return this.model.summary;
  }

  /**
   * Say the current state again.
   */
  refresh(): void {
    this.model.refresh();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    const model = this.model;
    super.dispose();
    model.dispose();
  }

  protected render(): React.ReactElement {
    const { text, title, capturing, connected } = this.model.summary;
    // The node is the button: its tooltip and state go on it.
    this.node.title = title;
    this.node.setAttribute('aria-label', title);
    this.node.dataset.capturing = String(capturing);
    this.node.dataset.connected = String(connected);
    return (
      <>
        <listIcon.react
          tag="span"
          stylesheet="statusBar"
          elementPosition="center"
        />
        <span className="jp-StatusBar-TextItem jp-EventsStatus-text">
          {text}
        </span>
      </>
    );
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

  private _commands: CommandRegistry;
}

export namespace EventsStatus {
  /**
   * The command a click runs.
   */
  export const OPEN_VIEWER = 'jupyter-events-ext:open-viewer';

  export interface IOptions {
    client: IEventsClient;
    /**
     * The settings model: what is recorded, consent included.
     */
    settings: IEventsSettings;
    commands: CommandRegistry;
    trans: TranslationBundle;
  }
}
