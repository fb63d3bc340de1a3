import type { TranslationBundle } from '@jupyterlab/translation';
import type { IDisposable } from '@lumino/disposable';
import { Signal } from '@lumino/signaling';

import { StreamSubscription } from '../stream/subscription';
import type { IEventsClient, IEventsSettings } from '../tokens';
import { element } from './dom';

/**
 * The Event Viewer's connection line: whether the live stream is open, why
 * not, and what it may have missed (a restart of the server, events no
 * longer buffered when it resumed).
 */
export class ConnectionLine implements IDisposable {
  constructor(
    private readonly _subscription: IEventsClient.ISubscription,
    private readonly _trans: TranslationBundle
  ) {
    this.node.setAttribute('role', 'status');
    _subscription.connectionChanged.connect(this._render, this);
    _subscription.missed.connect(this._onMissed, this);
    _subscription.restarted.connect(this._onRestarted, this);
    this._render();
  }

  readonly node = element('span', 'jp-EventViewer-connection');

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    this._isDisposed = true;
    Signal.disconnectReceiver(this);
  }

  private _onMissed(_: unknown, count: number): void {
    if (!this._subscription.lastSeq) {
      // Before any event (seq counts from 1), this only says that the history the
      // viewer opened on is shorter than all of it: not a gap.
      return;
    }
    this._missed += count;
    this._render();
  }

  /**
   * The server restarted while the stream was closed: what it recorded in
   * its previous run after the last row shown may be missing here.
   */
  private _onRestarted(): void {
    this._restarts++;
    this._render();
  }

  private _render(): void {
    const trans = this._trans;
    const { connected, reason } = this._subscription;
    // A reason replaces "Reconnecting…": the server said why, or that it answers
    // but refuses the stream; retrying alone will not help.
    this.node.dataset.state = connected
      ? 'connected'
      : (reason?.kind ?? 'disconnected');
    const parts = [
      connected
        ? trans.__('Live')
        : reason
          ? Private.reasonText(reason, trans)
          : trans.__('Reconnecting…')
    ];
    if (this._restarts) {
      parts.push(
        trans._n(
          'the server restarted',
          'the server restarted %1 times',
          this._restarts
        )
      );
    }
    if (this._missed) {
      parts.push(
        trans._n(
          '%1 missed while disconnected',
          '%1 missed while disconnected',
          this._missed
        )
      );
    }
    this.node.textContent = parts.join(' · ');
    this.node.title = connected
      ? this._restarts
        ? trans.__(
            'Connected to the live event stream. The server restarted while it was closed: events it recorded before restarting, after the last one shown, may be missing here (they are in its sinks).'
          )
        : trans.__('Connected to the live event stream')
      : reason
        ? trans.__(
            'The live event stream cannot open; trying again now and then'
          )
        : trans.__(
            'The live event stream is closed; reconnecting and resuming after the last event seen'
          );
  }

  private _isDisposed = false;
  private _missed = 0;
  private _restarts = 0;
}

/**
 * The Event Viewer's delivery line: what waits in this browser to be sent,
 * whether it is stored, what was dropped or refused, and why the server does
 * not take events.
 */
export class DeliveryLine implements IDisposable {
  constructor(
    private readonly _client: IEventsClient,
    private readonly _trans: TranslationBundle
  ) {
    this.node.setAttribute('role', 'status');
    _client.stateChanged.connect(this._render, this);
    this._render();
  }

  readonly node = element('span', 'jp-EventViewer-delivery');

  /**
   * The events the automatic capture dropped per kind (its rate limit).
   */
  get captureDrops(): DeliveryLine.Drops {
    return this._captureDrops;
  }
  set captureDrops(value: DeliveryLine.Drops) {
    this._captureDrops = value;
    this._render();
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    this._isDisposed = true;
    this._client.stateChanged.disconnect(this._render, this);
  }

  private _render(): void {
    const trans = this._trans;
    const { reason, durable, waiting, dropped, rejected, eventManager } =
      this._client.state;
    const parts = [
      trans._n('%1 waiting to be sent', '%1 waiting to be sent', waiting)
    ];
    if (!durable) {
      parts.push(trans.__('kept in memory only'));
    }
    if (dropped) {
      parts.push(
        trans._n(
          '%1 dropped (queue or storage full)',
          '%1 dropped (queue or storage full)',
          dropped
        )
      );
    }
    const limited = Object.entries(this._captureDrops)
      .filter(([, count]) => count)
      .sort(([a], [b]) => a.localeCompare(b));
    if (limited.length) {
      const total = limited.reduce((sum, [, count]) => sum + count!, 0);
      parts.push(
        trans._n(
          '%1 dropped by the capture rate limit (%2)',
          '%1 dropped by the capture rate limit (%2)',
          total,
          limited.map(([kind, count]) => `${kind} ${count}`).join(', ')
        )
      );
    }
    if (rejected) {
      parts.push(
        trans._n(
          '%1 refused by the server',
          '%1 refused by the server',
          rejected
        )
      );
    }
    const { queued, posted } = eventManager;
    if (queued + posted) {
      parts.push(
        trans._n(
          '%1 through JupyterLab’s event API (%2 of them to /api/events)',
          '%1 through JupyterLab’s event API (%2 of them to /api/events)',
          queued + posted,
          posted
        )
      );
    }
    if (reason) {
      parts.push(reason.message);
    }
    this.node.textContent = parts.join(' · ');
    this.node.dataset.state = reason ? reason.kind : 'connected';
    this.node.title = reason
      ? trans.__(
          'The server does not take events now: they wait in this browser and are sent once it does'
        )
      : durable
        ? trans.__(
            'Events emitted in this browser and not yet recorded by the server'
          )
        : trans.__(
            'This browser cannot store events (IndexedDB unavailable or full): they are lost if the page closes before the server has them'
          );
  }

  private _captureDrops: DeliveryLine.Drops = {};
  private _isDisposed = false;
}

export namespace DeliveryLine {
  /**
   * Events dropped per capture kind.
   */
  export type Drops = Readonly<Partial<Record<IEventsSettings.Kind, number>>>;
}

namespace Private {
  /**
   * Why the stream cannot open, for a person.
   */
  export function reasonText(
    reason: IEventsClient.IReason,
    trans: TranslationBundle
  ): string {
    if (reason === StreamSubscription.REFUSED) {
      return trans.__(
        'The server answers but refuses the live stream (too many open viewers, or a proxy that does not pass WebSockets).'
      );
    }
    return reason.message;
  }
}
