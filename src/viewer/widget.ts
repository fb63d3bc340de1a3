import {
  type ITranslator,
  nullTranslator,
  type TranslationBundle
} from '@jupyterlab/translation';
import type { Message } from '@lumino/messaging';
import { type ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import type { IEventsClient, IEventsSettings } from '../tokens';
import { element } from './dom';
import { downloadJSONLines } from './download';
import { EventLog } from './eventLog';
import { RecordingPanel } from './recording';
import { EventRows } from './rows';
import { ConnectionLine, DeliveryLine } from './status';

/**
 * The Event Viewer: the server's events as they happen, newest first (the
 * rows: `rows.ts`); the connection and delivery lines (`status.ts`); and
 * what this browser records (`recording.ts`), as the settings model says.
 *
 * The events are kept in an `EventLog`; filtering, searching, the order and
 * the pause are its job. This widget renders the newest matching ones (500)
 * at most every 100 ms, whatever number arrived meanwhile: opening it on the
 * server's buffer of 10,000 events is a few renders, not 10,000 inserts.
 * Its actions are commands (`commands.ts`), in the panel's toolbar.
 */
export class EventViewer extends Widget {
  /**
   * Create a viewer and subscribe to the live stream.
   */
  constructor(options: EventViewer.IOptions) {
    super();
    this.addClass('jp-EventViewer');
    this._client = options.client;
    this._now = options.now ?? (() => new Date());
    this._renderInterval =
      options.renderInterval ?? EventViewer.DEFAULT_RENDER_INTERVAL;
    this.trans = (options.translator ?? nullTranslator).load(
      'jupyter_events_ext'
    );
    const trans = this.trans;
    this.log = new EventLog({ capacity: options.capacity });
    this.log.changed.connect(this._onLogChanged, this);
    this._rows = new EventRows({
      log: this.log,
      trans,
      maxRows: options.maxRows ?? EventViewer.DEFAULT_MAX_ROWS,
      now: this._now
    });
    // Replay what the server still buffers: the viewer opens on recent history.
    this._subscription = this._client.subscribe({ after: 0 });
    this._subscription.stream.connect(this._onEvent, this);
    this._connection = new ConnectionLine(this._subscription, trans);
    this._delivery = new DeliveryLine(this._client, trans);
    this._recording = new RecordingPanel({
      trans,
      settings: options.settings,
      recording: options.recording,
      onOpenSettings: options.onOpenSettings
    });

    const status = element('div', 'jp-EventViewer-status');
    status.append(this._connection.node, this._delivery.node, this._rows.count);
    const events = element('section', 'jp-EventViewer-events');
    events.setAttribute('aria-label', trans.__('Events'));
    events.append(this._rows.empty, this._rows.list);
    const body = element('div', 'jp-EventViewer-body');
    body.append(events, this._recording.node);
    this.node.append(status, body);

    this._render();
    void this._client.listSchemas().then(
      schemas => this._setSchemas(schemas),
      reason => this._recording.showSchemaError(reason)
    );
  }

  /**
   * The most rows rendered: the newest that match.
   */
  static readonly DEFAULT_MAX_ROWS = 500;

  /**
   * The most rows made in one frame.
   */
  static readonly ROWS_PER_FRAME = EventRows.ROWS_PER_FRAME;

  /**
   * The least milliseconds between two renders.
   */
  static readonly DEFAULT_RENDER_INTERVAL = 100;

  /**
   * The events received, with the filter, search and pause.
   */
  readonly log: EventLog;

  /**
   * The viewer's strings.
   */
  readonly trans: TranslationBundle;

  /**
   * A signal emitted when what the commands show may have changed: paused,
   * events held back, the filter or search, rows shown.
   */
  get stateChanged(): ISignal<this, void> {
    return this._stateChanged;
  }

  /**
   * The schemas the server lists, by id.
   */
  get schemas(): ReadonlyMap<string, IEventsClient.ISchema> {
    return this._schemas;
  }

  /**
   * The schema shown, or `null` for every schema.
   */
  get filter(): string | null {
    return this.log.schemaId;
  }
  set filter(schemaId: string | null) {
    this.log.schemaId = schemaId;
  }

  /**
   * The text searched for in the events' JSON.
   */
  get query(): string {
    return this.log.query;
  }
  set query(value: string) {
    this.log.query = value;
  }

  /**
   * Whether new events are held back rather than shown.
   */
  get paused(): boolean {
    return this.log.paused;
  }

  /**
   * The events the automatic capture dropped per kind (its rate limit), shown
   * with what waits to be sent.
   */
  get captureDrops(): EventViewer.Drops {
    return this._delivery.captureDrops;
  }
  set captureDrops(value: EventViewer.Drops) {
    this._delivery.captureDrops = value;
  }

  /**
   * What "What this browser records" shows; `null` when unknown.
   */
  get recording(): EventViewer.IRecording | null {
    return this._recording.recording;
  }
  set recording(value: EventViewer.IRecording | null) {
    this._recording.recording = value;
  }

  /**
   * Pause or resume; resuming shows the events held back meanwhile.
   */
  togglePaused(): void {
    if (this.log.paused) {
      this.log.paused = false;
    } else {
      // What arrived since the last render was never on screen: held back
      // too, so that the rows stay as they were when the user paused.
      this.log.pause(this._rows.drawn);
    }
  }

  /**
   * Remove every row (and what pausing held back).
   */
  clear(): void {
    this.log.clear();
  }

  /**
   * The events that match the filter and search, earliest first, as JSON
   * lines: what "Export" downloads.
   */
  exportText(): string {
    return EventLog.toJSONLines(this.log.matching());
  }

  /**
   * Download the matching events as a JSON-lines file.
   */
  download(): void {
    downloadJSONLines(this.exportText(), this._now());
  }

  /**
   * Close the subscription.
   */
  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._subscription.dispose();
    this._connection.dispose();
    this._delivery.dispose();
    this._recording.dispose();
    if (this._renderTimer !== null) {
      clearTimeout(this._renderTimer);
    }
    super.dispose();
    Signal.clearData(this);
  }

  /**
   * Render what changed since the last frame.
   */
  protected onUpdateRequest(msg: Message): void {
    if (!this.isVisible) {
      // Hidden (another tab in front): rendered when shown.
      this._dirty = true;
      return;
    }
    this._render();
  }

  protected onAfterShow(msg: Message): void {
    if (this._dirty) {
      this.update();
    }
  }

  private _onEvent(
    _: IEventsClient.ISubscription,
    message: IEventsClient.IStreamMessage
  ): void {
    this.log.add([message]);
  }

  /**
   * Render soon: at the next frame, but no sooner than `renderInterval`
   * after the last render, so that a flood of events (the replay on
   * opening) is rendered a few times rather than at every frame.
   */
  private _onLogChanged(): void {
    this._dirty = true;
    if (this._renderInterval <= 0) {
      this.update();
      return;
    }
    if (this._renderTimer !== null) {
      return;
    }
    const wait = Math.max(
      0,
      this._lastRender + this._renderInterval - performance.now()
    );
    this._renderTimer = setTimeout(() => {
      this._renderTimer = null;
      this.update();
    }, wait);
  }

  private _render(): void {
    this._dirty = false;
    this._lastRender = performance.now();
    if (!this._rows.render()) {
      // More rows to make: at the next frame.
      this.update();
    }
    this._stateChanged.emit();
  }

  private _setSchemas(schemas: ReadonlyArray<IEventsClient.ISchema>): void {
    for (const schema of schemas) {
      this._schemas.set(schema.id, schema);
    }
    this._recording.showSchemas(schemas);
    this._stateChanged.emit();
  }

  private _client: IEventsClient;
  private _connection: ConnectionLine;
  private _delivery: DeliveryLine;
  private _dirty = false;
  private _lastRender = -Infinity;
  private _now: () => Date;
  private _recording: RecordingPanel;
  private _renderInterval: number;
  private _renderTimer: ReturnType<typeof setTimeout> | null = null;
  private _rows: EventRows;
  private _schemas = new Map<string, IEventsClient.ISchema>();
  private _stateChanged = new Signal<this, void>(this);
  private _subscription: IEventsClient.ISubscription;
}

/**
 * The statics of the Event Viewer.
 */
export namespace EventViewer {
  /**
   * The options of a viewer.
   */
  export interface IOptions {
    /**
     * The events client.
     */
    client: IEventsClient;
    /**
     * The most rows rendered, the newest that match (500 by default).
     */
    maxRows?: number;
    /**
     * The most events kept, that the filter and search look through
     * (10,000 by default).
     */
    capacity?: number;
    /**
     * The settings model, followed for "What this browser records".
     */
    settings?: IEventsSettings | null;
    /**
     * What this browser records, when no settings model is given.
     */
    recording?: IRecording | null;
    /**
     * Open the settings (the link under "What this browser records").
     */
    onOpenSettings?: () => void;
    /**
     * The translator of the strings shown.
     */
    translator?: ITranslator;
    /**
     * The least milliseconds between two renders (100 by default); 0
     * renders at the next frame whatever came before.
     */
    renderInterval?: number;
    /**
     * The current time (for "today"); the clock by default.
     */
    now?: () => Date;
  }

  /**
   * The capture kinds that a setting switches.
   */
  export type CaptureKind = IEventsSettings.Kind;

  /**
   * Events dropped per capture kind.
   */
  export type Drops = DeliveryLine.Drops;

  /**
   * What this browser records, as the settings model says.
   */
  export type IRecording = IEventsSettings.IRecording;
}
