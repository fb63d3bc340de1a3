import { Clipboard, DOMUtils } from '@jupyterlab/apputils';
import {
  type ITranslator,
  nullTranslator,
  type TranslationBundle
} from '@jupyterlab/translation';
import { copyIcon, lockIcon } from '@jupyterlab/ui-components';
import { type ISignal, Signal } from '@lumino/signaling';
import type { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { KINDS } from '../settings/config';
import { kindLabels } from '../settings/labels';
import { EventLog } from './eventLog';
import { shortName } from '../client/schemaName';
import { EventStream } from '../stream/subscription';
import type { IEventsClient, IEventsSettings } from '../tokens';

/**
 * The Event Viewer: the server's events as they happen, newest first, each
 * row a time, a schema, a version and a summary that expands to the full
 * JSON and can be copied; the connection and delivery state; and what this
 * browser records, as the settings say.
 *
 * The events are kept in an `EventLog`; filtering, searching and the order
 * are its job. This widget renders the newest matching ones (500) at most
 * every 100 ms, whatever number arrived meanwhile, touching only the rows
 * that changed: opening it on the server's buffer of 10,000 events is a few
 * renders, not 10,000 inserts.
 * Its actions are commands (`viewerCommands.ts`), in the panel's toolbar.
 */
export class EventViewer extends Widget {
  /**
   * Create a viewer and subscribe to the live stream.
   */
  constructor(options: EventViewer.IOptions) {
    super();
    this.addClass('jp-EventViewer');
    this._client = options.client;
    this._maxRows = options.maxRows ?? EventViewer.DEFAULT_MAX_ROWS;
    this._now = options.now ?? (() => new Date());
    this._renderInterval =
      options.renderInterval ?? EventViewer.DEFAULT_RENDER_INTERVAL;
    this._onOpenSettings = options.onOpenSettings ?? null;
    this.trans = (options.translator ?? nullTranslator).load(
      'jupyter_events_ext'
    );
    const trans = this.trans;
    this.log = new EventLog({ capacity: options.capacity });
    this.log.changed.connect(this._onLogChanged, this);

    const status = Private.element('div', 'jp-EventViewer-status');
    this._connection = Private.element('span', 'jp-EventViewer-connection');
    this._connection.setAttribute('role', 'status');
    this._delivery = Private.element('span', 'jp-EventViewer-delivery');
    this._delivery.setAttribute('role', 'status');
    this._count = Private.element('span', 'jp-EventViewer-count');
    status.append(this._connection, this._delivery, this._count);

    const body = Private.element('div', 'jp-EventViewer-body');
    const events = Private.element('section', 'jp-EventViewer-events');
    events.setAttribute('aria-label', trans.__('Events'));
    this._list = Private.element('ul', 'jp-EventViewer-list');
    this._list.setAttribute('aria-label', trans.__('Events, newest first'));
    this._empty = Private.element('p', 'jp-EventViewer-empty');
    events.append(this._empty, this._list);
    this._recording = Private.element('section', 'jp-EventViewer-recording');
    const heading = Private.element('h2', 'jp-EventViewer-heading');
    heading.id = DOMUtils.createDomID();
    heading.textContent = trans.__('What this browser records');
    this._recording.setAttribute('aria-labelledby', heading.id);
    this._recordingBody = Private.element('div', 'jp-EventViewer-settings');
    this._schemaCards = Private.element('div', 'jp-EventViewer-schemaCards');
    this._recording.append(heading, this._recordingBody, this._schemaCards);
    body.append(events, this._recording);
    this.node.append(status, body);

    // Replay what the server still buffers: the viewer opens on recent history.
    this._subscription = this._client.subscribe({ after: 0 });
    this._subscription.stream.connect(this._onEvent, this);
    this._subscription.connectionChanged.connect(this._renderConnection, this);
    this._subscription.missed.connect(this._onMissed, this);
    this._subscription.restarted.connect(this._onRestarted, this);
    this._client.stateChanged.connect(this._renderDelivery, this);
    this._renderConnection();
    this._renderDelivery();
    this._settings = options.settings ?? null;
    if (this._settings) {
      this._settings.changed.connect(this._followSettings, this);
      this.recording = this._settings.recording;
    } else {
      this.recording = options.recording ?? null;
    }
    this._render();
    void this._client
      .listSchemas()
      .then(schemas => this._setSchemas(schemas))
      .catch(reason => {
        const note = Private.element('p', 'jp-EventViewer-note');
        note.textContent = trans.__(
          'The schemas could not be listed: %1',
          String(reason)
        );
        this._schemaCards.append(note);
      });
  }

  /**
   * The most rows rendered: the newest that match.
   */
  static readonly DEFAULT_MAX_ROWS = 500;

  /**
   * The most rows made in one frame.
   */
  static readonly ROWS_PER_FRAME = 100;

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
   * What this browser records, from the settings; `null` when unknown.
   */
  /**
   * The events the automatic capture dropped per kind (its rate limit), shown
   * with what waits to be sent.
   */
  get captureDrops(): EventViewer.Drops {
    return this._captureDrops;
  }
  set captureDrops(value: EventViewer.Drops) {
    this._captureDrops = value;
    this._renderDelivery();
  }

  get recording(): EventViewer.IRecording | null {
    return this._recordingValue;
  }
  set recording(value: EventViewer.IRecording | null) {
    this._recordingValue = value;
    this._renderRecording();
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
      this.log.pause(this._drawn);
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
    const blob = new Blob([this.exportText()], {
      type: 'application/x-ndjson'
    });
    const url = URL.createObjectURL(blob);
    const link = document.createElement('a');
    link.href = url;
    link.download = `events-${Private.fileTime(this._now())}.jsonl`;
    document.body.append(link);
    link.click();
    link.remove();
    // The download has its own copy once started.
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  /**
   * Close the subscription.
   */
  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._subscription.dispose();
    this._client.stateChanged.disconnect(this._renderDelivery, this);
    this._settings?.changed.disconnect(this._followSettings, this);
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

  private _followSettings(settings: IEventsSettings): void {
    this.recording = settings.recording;
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

  /**
   * Render the newest matching rows in one replacement of the list, keeping
   * the rows already there (a row opened stays open).
   */
  private _render(): void {
    this._dirty = false;
    this._lastRender = performance.now();
    this._drawn = this.log.newestKey;
    const { entries, total } = this.log.newest(this._maxRows);
    const rows = new Map<number, HTMLLIElement>();
    // New rows are made a batch a frame, newest first, so that no frame
    // is long; the rest follow at the next frames.
    let made = 0;
    for (const entry of entries) {
      let row = this._rows.get(entry.key);
      if (!row) {
        if (made === EventViewer.ROWS_PER_FRAME) {
          // The next update request is served at the next frame.
          this.update();
          break;
        }
        row = this._renderRow(entry);
        made++;
      }
      rows.set(entry.key, row);
    }
    // Touch only what changed: mostly a few new rows on top and as many
    // old ones gone at the bottom. The new rows go in as one fragment.
    for (const [key, row] of this._rows) {
      if (!rows.has(key)) {
        row.remove();
      }
    }
    this._rows = rows;
    const list = this._list;
    let next = list.firstElementChild;
    let fragment: DocumentFragment | null = null;
    for (const row of rows.values()) {
      if (row === next) {
        if (fragment) {
          list.insertBefore(fragment, next);
          fragment = null;
        }
        next = next.nextElementSibling;
      } else {
        fragment = fragment ?? document.createDocumentFragment();
        fragment.append(row);
      }
    }
    if (fragment) {
      list.insertBefore(fragment, next);
    }

    const trans = this.trans;
    const kept = this.log.size;
    this._empty.hidden = rows.size > 0;
    this._empty.textContent = kept
      ? trans.__('No event matches the filter and search.')
      : this.log.paused
        ? trans.__('Paused.')
        : trans.__('Waiting for events…');
    const held = this.log.heldCount;
    const counts = [
      rows.size < total
        ? trans.__(
            'Showing the newest %1 of %2 matching events',
            rows.size,
            total
          )
        : trans._n('%1 event shown', '%1 events shown', total)
    ];
    if (total < kept) {
      counts.push(trans._n('%1 kept', '%1 kept', kept));
    }
    if (held) {
      counts.push(trans._n('%1 new while paused', '%1 new while paused', held));
    }
    this._count.textContent = counts.join(' · ');
    this._stateChanged.emit();
  }

  private _renderRow(entry: EventLog.IEntry): HTMLLIElement {
    const trans = this.trans;
    const { event, schemaId } = entry;
    const row = Private.element('li', 'jp-EventViewer-row');
    row.dataset.schema = schemaId;
    row.dataset.seq = String(entry.seq);
    const details = Private.element('details', 'jp-EventViewer-details');
    const summary = Private.element('summary', 'jp-EventViewer-summary');
    const time = Private.element('time', 'jp-EventViewer-time');
    time.dateTime = event.__timestamp__;
    time.textContent = formatEventTime(event.__timestamp__, this._now());
    time.title = event.__timestamp__;
    const schema = Private.element('span', 'jp-EventViewer-schema');
    schema.textContent = shortName(schemaId);
    schema.title = schemaId;
    const version = Private.element('span', 'jp-EventViewer-version');
    version.textContent = `v${event.__schema_version__}`;
    const text = Private.element('span', 'jp-EventViewer-text');
    text.textContent = Private.summarize(event);
    summary.append(time, schema, version);
    if (entry.late) {
      row.classList.add('jp-mod-late');
      const late = Private.element('span', 'jp-EventViewer-late');
      late.textContent = trans.__('late');
      late.title = trans.__(
        'Arrived after events over two seconds later (sent late, e.g. after an outage or from another tab): shown in the order of event time.'
      );
      summary.append(late);
    }
    summary.append(text);
    details.append(summary);
    // The JSON is built when a row is first opened: most never are.
    details.addEventListener('toggle', () => {
      if (details.open && details.childElementCount === 1) {
        const json = Private.element('pre', 'jp-EventViewer-json');
        json.textContent = JSON.stringify(event, null, 2);
        details.append(json);
      }
    });
    const copy = Private.element(
      'button',
      'jp-EventViewer-copy jp-Button jp-mod-minimal'
    );
    copy.type = 'button';
    const label = trans.__('Copy the event as JSON');
    copy.title = label;
    copy.setAttribute('aria-label', label);
    copyIcon.element({ container: copy, tag: null });
    copy.addEventListener('click', () => {
      Clipboard.copyToSystem(JSON.stringify(event, null, 2));
      copy.title = trans.__('Copied');
      copy.classList.add('jp-mod-copied');
      setTimeout(() => {
        copy.title = label;
        copy.classList.remove('jp-mod-copied');
      }, 1500);
    });
    row.append(details, copy);
    return row;
  }

  private _onMissed(_: unknown, count: number): void {
    if (!this._subscription.lastSeq) {
      // Before any event (seq counts from 1), this only says that the history the
      // viewer opened on is shorter than all of it: not a gap.
      return;
    }
    this._missedCount += count;
    this._renderConnection();
  }

  /**
   * The server restarted while the stream was closed: what it recorded in
   * its previous run after the last row shown may be missing here.
   */
  private _onRestarted(): void {
    this._restarts++;
    this._renderConnection();
  }

  private _renderConnection(): void {
    const trans = this.trans;
    const { connected, reason } = this._subscription;
    // A reason replaces "Reconnecting…": the server said why, or that it answers
    // but refuses the stream; retrying alone will not help.
    const state = connected ? 'connected' : (reason?.kind ?? 'disconnected');
    this._connection.dataset.state = state;
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
    if (this._missedCount) {
      parts.push(
        trans._n(
          '%1 missed while disconnected',
          '%1 missed while disconnected',
          this._missedCount
        )
      );
    }
    this._connection.textContent = parts.join(' · ');
    this._connection.title = connected
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

  private _renderDelivery(): void {
    const trans = this.trans;
    const { reason, durable, waiting, dropped, rejected } = this._client.state;
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
    if (reason) {
      parts.push(reason.message);
    }
    this._delivery.textContent = parts.join(' · ');
    this._delivery.dataset.state = reason ? reason.kind : 'connected';
    this._delivery.title = reason
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

  /**
   * The capture kinds on, the path mode and the operator's locks, with a
   * link to the settings.
   */
  private _renderRecording(): void {
    const trans = this.trans;
    const node = this._recordingBody;
    node.replaceChildren();
    const recording = this._recordingValue;
    if (!recording) {
      const note = Private.element('p', 'jp-EventViewer-note');
      note.textContent = trans.__(
        'The settings of this browser are not known: see the Settings Editor.'
      );
      node.append(note);
    } else {
      const locked = new Set(recording.locked);
      const item = (key: string, text: string, on?: boolean) => {
        const li = Private.element('li', 'jp-EventViewer-setting');
        li.dataset.setting = key;
        if (on !== undefined) {
          li.dataset.on = String(on);
        }
        const label = Private.element('span', 'jp-EventViewer-settingText');
        label.textContent = text;
        li.append(label);
        if (locked.has(key)) {
          const lock = Private.element('span', 'jp-EventViewer-locked');
          lockIcon.element({ container: lock, tag: null });
          const lockText = trans.__('set by your operator');
          lock.title = lockText;
          const lockLabel = Private.element('span', 'jp-EventViewer-lockText');
          lockLabel.textContent = lockText;
          lock.append(lockLabel);
          li.append(lock);
        }
        return li;
      };
      const list = Private.element('ul', 'jp-EventViewer-settingList');
      list.append(
        item(
          'capture',
          Private.captureText(recording, trans),
          recording.capture
        )
      );
      // Asked first: what agreeing would start is part of the answer.
      const ifAgreed =
        recording.reason === 'no-consent' || recording.reason === 'declined';
      if (recording.capture || ifAgreed) {
        if (ifAgreed) {
          const lead = Private.element('p', 'jp-EventViewer-ifAgreed');
          lead.textContent = trans.__('If you agree, these are captured:');
          list.lastElementChild!.append(lead);
        }
        const kinds = Private.element('ul', 'jp-EventViewer-kinds');
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
        list.lastElementChild!.append(kinds);
        list.append(
          item('pathMode', Private.pathModeText(recording.pathMode, trans))
        );
      }
      node.append(list);
    }
    if (this._onOpenSettings) {
      const open = Private.element(
        'button',
        'jp-EventViewer-openSettings jp-mod-styled jp-mod-link'
      );
      open.type = 'button';
      open.textContent = trans.__('Change these in the settings');
      open.addEventListener('click', () => this._onOpenSettings!());
      node.append(open);
    }
  }

  private _setSchemas(schemas: ReadonlyArray<IEventsClient.ISchema>): void {
    for (const schema of schemas) {
      this._schemas.set(schema.id, schema);
    }
    // What each event this browser may send holds: the schemas of the capture.
    const cards = [...schemas]
      .filter(schema => schema.client)
      .sort(
        (a, b) =>
          shortName(a.id).localeCompare(shortName(b.id)) ||
          String(a.version).localeCompare(String(b.version))
      );
    if (cards.length) {
      const heading = Private.element('h3', 'jp-EventViewer-subheading');
      heading.textContent = this.trans.__('What each event holds');
      this._schemaCards.append(heading);
      for (const schema of cards) {
        this._schemaCards.append(Private.renderSchema(schema));
      }
    }
    this._stateChanged.emit();
  }

  private _client: IEventsClient;
  private _connection: HTMLSpanElement;
  private _count: HTMLSpanElement;
  private _delivery: HTMLSpanElement;
  private _captureDrops: EventViewer.Drops = {};
  private _dirty = false;
  /**
   * The newest event key the last render drew from.
   */
  private _drawn = 0;
  private _lastRender = -Infinity;
  private _renderInterval: number;
  private _renderTimer: ReturnType<typeof setTimeout> | null = null;
  private _empty: HTMLParagraphElement;
  private _list: HTMLUListElement;
  private _maxRows: number;
  private _missedCount = 0;
  private _now: () => Date;
  private _onOpenSettings: (() => void) | null;
  private _recording: HTMLElement;
  private _recordingBody: HTMLElement;
  private _recordingValue: EventViewer.IRecording | null = null;
  private _settings: IEventsSettings | null;
  private _restarts = 0;
  private _rows = new Map<number, HTMLLIElement>();
  private _schemaCards: HTMLElement;
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
  export type Drops = Readonly<Partial<Record<CaptureKind, number>>>;

  /**
   * What this browser records, as the settings model says.
   */
  export type IRecording = IEventsSettings.IRecording;
}

/**
 * An event time in local time: the time of day, with the date before it
 * when it is not the day of `now`.
 */
export function formatEventTime(timestamp: string, now: Date): string {
  const date = new Date(timestamp);
  if (Number.isNaN(date.getTime())) {
    return timestamp;
  }
  const pad = (value: number, size = 2) => String(value).padStart(size, '0');
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
  const sameDay =
    date.getFullYear() === now.getFullYear() &&
    date.getMonth() === now.getMonth() &&
    date.getDate() === now.getDate();
  return sameDay
    ? time
    : `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${time}`;
}

namespace Private {
  export function element<K extends keyof HTMLElementTagNameMap>(
    tag: K,
    className: string
  ): HTMLElementTagNameMap[K] {
    const node = document.createElement(tag);
    node.className = className;
    return node;
  }

  /**
   * A time for a file name: local, to the second.
   */
  export function fileTime(date: Date): string {
    const pad = (value: number) => String(value).padStart(2, '0');
    return `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}-${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
  }

  /**
   * Why the stream cannot open, for a person.
   */
  export function reasonText(
    reason: IEventsClient.IReason,
    trans: TranslationBundle
  ): string {
    if (reason === EventStream.REFUSED) {
      return trans.__(
        'The server answers but refuses the live stream (too many open viewers, or a proxy that does not pass WebSockets).'
      );
    }
    return reason.message;
  }

  /**
   * Whether UI actions are captured, and why not, as the settings model says.
   */
  export function captureText(
    recording: EventViewer.IRecording,
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
    mode: EventViewer.IRecording['pathMode'],
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
   * The event's own fields on one line.
   */
  export function summarize(
    event: IEventsClient.IStreamMessage['event']
  ): string {
    const parts: string[] = [];
    for (const [key, value] of Object.entries(event)) {
      if (key.startsWith('__')) {
        continue;
      }
      const text =
        value !== null && typeof value === 'object'
          ? Array.isArray(value)
            ? '[…]'
            : '{…}'
          : String(value);
      // Ids and digests are long and say little at a glance: the JSON has them whole.
      parts.push(`${key}=${text.length > 32 ? `${text.slice(0, 16)}…` : text}`);
    }
    return parts.join('  ');
  }

  /**
   * A schema's card: its title, version, id, description and fields.
   */
  export function renderSchema(schema: IEventsClient.ISchema): HTMLElement {
    const card = element('details', 'jp-EventViewer-schemaCard');
    card.dataset.schema = schema.id;
    const summary = element('summary', 'jp-EventViewer-schemaTitle');
    const title = element('span', 'jp-EventViewer-schemaName');
    title.textContent = String(schema.schema.title ?? shortName(schema.id));
    const version = element('span', 'jp-EventViewer-version');
    version.textContent = `v${schema.version}`;
    summary.append(title, version);
    card.append(summary);
    const id = element('code', 'jp-EventViewer-schemaId');
    id.textContent = schema.id;
    card.append(id);
    if (typeof schema.schema.description === 'string') {
      const description = element('p', 'jp-EventViewer-description');
      description.textContent = schema.schema.description;
      card.append(description);
    }
    const properties = schema.schema.properties as
      Record<string, { description?: string }> | undefined;
    if (properties && typeof properties === 'object') {
      const fields = element('dl', 'jp-EventViewer-fields');
      for (const [name, property] of Object.entries(properties)) {
        const term = element('dt', 'jp-EventViewer-field');
        term.textContent = name;
        const definition = element('dd', 'jp-EventViewer-fieldDescription');
        definition.textContent = property?.description ?? '';
        fields.append(term, definition);
      }
      card.append(fields);
    }
    return card;
  }
}
