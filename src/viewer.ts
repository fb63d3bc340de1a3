import type { ReadonlyJSONObject } from '@lumino/coreutils';
import { Widget } from '@lumino/widgets';

import type { IEventsClient } from './tokens';

/**
 * The Event Viewer: the server's events as they happen, each row a time, a
 * schema, a version and a summary that expands to the full JSON; a filter by
 * schema, pause and resume, clear; the connection and delivery state; and the
 * registered schemas with their descriptions, so a person can read what is
 * recorded about them.
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

    const toolbar = Private.element('div', 'jp-EventViewer-toolbar');
    const filterLabel = Private.element('label', 'jp-EventViewer-filterLabel');
    filterLabel.append('Schema ');
    this._filter = Private.element('select', 'jp-EventViewer-filter');
    this._filter.title = 'Show the events of one schema only';
    this._filter.append(new Option('All schemas', ''));
    this._filter.addEventListener('change', () => this._applyFilter());
    filterLabel.append(this._filter);
    this._pause = Private.button('jp-EventViewer-pause', 'Pause', () =>
      this.togglePaused()
    );
    const clear = Private.button('jp-EventViewer-clear', 'Clear', () =>
      this.clear()
    );
    this._connection = Private.element('span', 'jp-EventViewer-connection');
    this._delivery = Private.element('span', 'jp-EventViewer-delivery');
    toolbar.append(
      filterLabel,
      this._pause,
      clear,
      Private.element('span', 'jp-EventViewer-spacer'),
      this._connection,
      this._delivery
    );

    const body = Private.element('div', 'jp-EventViewer-body');
    const events = Private.element('section', 'jp-EventViewer-events');
    events.setAttribute('aria-label', 'Events');
    this._list = Private.element('div', 'jp-EventViewer-list');
    this._list.setAttribute('role', 'list');
    this._empty = Private.element('p', 'jp-EventViewer-empty');
    this._empty.textContent = 'Waiting for events…';
    events.append(this._empty, this._list);
    this._schemas = Private.element('section', 'jp-EventViewer-schemas');
    this._schemas.setAttribute('aria-label', 'Registered schemas');
    const heading = Private.element('h2', 'jp-EventViewer-heading');
    heading.textContent = 'What is recorded about me';
    this._schemas.append(heading);
    body.append(events, this._schemas);
    this.node.append(toolbar, body);

    // Replay what the server still buffers: the viewer opens on recent history.
    this._subscription = this._client.subscribe({ after: 0 });
    this._subscription.stream.connect(this._onEvent, this);
    this._subscription.connectionChanged.connect(this._renderConnection, this);
    this._subscription.missed.connect(this._onMissed, this);
    this._subscription.restarted.connect(this._onRestarted, this);
    this._client.stateChanged.connect(this._renderDelivery, this);
    this._renderConnection();
    this._renderDelivery();
    void this._client
      .listSchemas()
      .then(schemas => this._renderSchemas(schemas))
      .catch(reason => {
        const note = Private.element('p', 'jp-EventViewer-note');
        note.textContent = `The schemas could not be listed: ${reason}`;
        this._schemas.append(note);
      });
  }

  /**
   * The most rows the viewer keeps.
   */
  static readonly DEFAULT_MAX_ROWS = 500;

  /**
   * The schema shown, or `null` for every schema.
   */
  get filter(): string | null {
    return this._filter.value || null;
  }
  set filter(schemaId: string | null) {
    this._addSchemaOption(schemaId);
    this._filter.value = schemaId ?? '';
    this._applyFilter();
  }

  /**
   * Whether new events are held back rather than shown.
   */
  get paused(): boolean {
    return this._paused;
  }

  /**
   * Pause or resume; resuming shows the events held back meanwhile.
   */
  togglePaused(): void {
    this._paused = !this._paused;
    if (!this._paused) {
      const held = this._held;
      this._held = [];
      for (const message of held) {
        this._addRow(message);
      }
    }
    this._renderPause();
  }

  /**
   * Remove every row (and what pausing held back).
   */
  clear(): void {
    this._list.replaceChildren();
    this._held = [];
    this._renderPause();
    this._renderEmpty();
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
    super.dispose();
  }

  private _onEvent(
    _: IEventsClient.ISubscription,
    message: IEventsClient.IStreamMessage
  ): void {
    this._addSchemaOption(message.event.__schema__);
    if (this._paused) {
      this._held.push(message);
      if (this._held.length > this._maxRows) {
        this._held.shift();
      }
      this._renderPause();
      return;
    }
    this._addRow(message);
  }

  private _addRow({ seq, event }: IEventsClient.IStreamMessage): void {
    const schemaId = event.__schema__;
    const row = Private.element('details', 'jp-EventViewer-row');
    row.setAttribute('role', 'listitem');
    row.dataset.schema = schemaId;
    row.dataset.seq = String(seq);
    const summary = Private.element('summary', 'jp-EventViewer-summary');
    const time = Private.element('time', 'jp-EventViewer-time');
    time.dateTime = event.__timestamp__;
    time.textContent = Private.formatTime(event.__timestamp__);
    time.title = event.__timestamp__;
    const schema = Private.element('span', 'jp-EventViewer-schema');
    schema.textContent = Private.shortName(schemaId);
    schema.title = schemaId;
    const version = Private.element('span', 'jp-EventViewer-version');
    version.textContent = `v${event.__schema_version__}`;
    const text = Private.element('span', 'jp-EventViewer-text');
    text.textContent = Private.summarize(event);
    summary.append(time, schema, version, text);
    row.append(summary);
    // The JSON is built when a row is first opened: most never are.
    row.addEventListener('toggle', () => {
      if (row.open && row.childElementCount === 1) {
        const json = Private.element('pre', 'jp-EventViewer-json');
        json.textContent = JSON.stringify(event, null, 2);
        row.append(json);
      }
    });
    const filter = this.filter;
    row.hidden = filter !== null && filter !== schemaId;
    this._list.prepend(row);
    while (this._list.childElementCount > this._maxRows) {
      this._list.lastElementChild!.remove();
    }
    this._renderEmpty();
  }

  private _addSchemaOption(schemaId: string | null, title?: string): void {
    if (schemaId === null || this._options.has(schemaId)) {
      return;
    }
    this._options.add(schemaId);
    const option = new Option(Private.shortName(schemaId), schemaId);
    option.title = title ?? schemaId;
    // Keep the options sorted by name, after "All schemas".
    const after = Array.from(this._filter.options)
      .slice(1)
      .find(other => other.text.localeCompare(option.text) > 0);
    this._filter.insertBefore(option, after ?? null);
  }

  private _applyFilter(): void {
    const filter = this.filter;
    for (const row of Array.from(this._list.children) as HTMLElement[]) {
      row.hidden = filter !== null && row.dataset.schema !== filter;
    }
    this._renderEmpty();
  }

  private _renderEmpty(): void {
    const visible = Array.from(this._list.children).some(
      row => !(row as HTMLElement).hidden
    );
    this._empty.hidden = visible;
    this._empty.textContent = this._list.childElementCount
      ? 'No events of this schema yet.'
      : 'Waiting for events…';
  }

  private _renderPause(): void {
    this._pause.textContent = this._paused
      ? this._held.length
        ? `Resume (${this._held.length} new)`
        : 'Resume'
      : 'Pause';
    this._pause.setAttribute('aria-pressed', String(this._paused));
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
    const { connected, reason } = this._subscription;
    // A reason the server gave replaces "Reconnecting…": retrying will not help.
    const state = connected ? 'connected' : (reason?.kind ?? 'disconnected');
    this._connection.dataset.state = state;
    const parts = [connected ? 'Live' : (reason?.message ?? 'Reconnecting…')];
    if (this._restarts) {
      parts.push(
        this._restarts === 1
          ? 'the server restarted'
          : `the server restarted ${this._restarts} times`
      );
    }
    if (this._missedCount) {
      parts.push(`${this._missedCount} missed while disconnected`);
    }
    this._connection.textContent = parts.join(' · ');
    this._connection.title = connected
      ? this._restarts
        ? 'Connected to the live event stream. The server restarted while it was closed: events it recorded before restarting, after the last one shown, may be missing here (they are in its sinks).'
        : 'Connected to the live event stream'
      : reason
        ? 'The live event stream cannot open; trying again now and then'
        : 'The live event stream is closed; reconnecting and resuming after the last event seen';
  }

  private _renderDelivery(): void {
    const { reason, durable, waiting, dropped, rejected } = this._client.state;
    const parts = [`${waiting} waiting to be sent`];
    if (!durable) {
      parts.push('kept in memory only');
    }
    if (dropped) {
      parts.push(`${dropped} dropped (queue or storage full)`);
    }
    if (rejected) {
      parts.push(`${rejected} refused by the server`);
    }
    if (reason) {
      parts.push(reason.message);
    }
    this._delivery.textContent = parts.join(' · ');
    this._delivery.dataset.state = reason ? reason.kind : 'connected';
    this._delivery.title = reason
      ? 'The server does not take events now: they wait in this browser and are sent once it does'
      : durable
        ? 'Events emitted in this browser and not yet recorded by the server'
        : 'This browser cannot store events (IndexedDB unavailable or full): they are lost if the page closes before the server has them';
  }

  private _renderSchemas(schemas: ReadonlyArray<IEventsClient.ISchema>): void {
    const sorted = [...schemas].sort(
      (a, b) =>
        Private.shortName(a.id).localeCompare(Private.shortName(b.id)) ||
        String(a.version).localeCompare(String(b.version))
    );
    for (const schema of sorted) {
      this._addSchemaOption(
        schema.id,
        String(schema.schema.title ?? schema.id)
      );
      this._schemas.append(Private.renderSchema(schema));
    }
  }

  private _client: IEventsClient;
  private _connection: HTMLSpanElement;
  private _delivery: HTMLSpanElement;
  private _empty: HTMLParagraphElement;
  private _filter: HTMLSelectElement;
  private _held: IEventsClient.IStreamMessage[] = [];
  private _list: HTMLDivElement;
  private _maxRows: number;
  private _missedCount = 0;
  private _restarts = 0;
  private _options = new Set<string>();
  private _pause: HTMLButtonElement;
  private _paused = false;
  private _schemas: HTMLElement;
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
     * The most rows kept; the oldest go first.
     */
    maxRows?: number;
  }
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

  export function button(
    className: string,
    label: string,
    onClick: () => void
  ): HTMLButtonElement {
    const node = element('button', `${className} jp-mod-styled`);
    node.type = 'button';
    node.textContent = label;
    node.addEventListener('click', onClick);
    return node;
  }

  /**
   * A schema's name: the last segment of its `$id` before the version.
   */
  export function shortName(schemaId: string): string {
    const segments = schemaId.split('/').filter(segment => segment !== '');
    while (
      segments.length > 1 &&
      /^v\d+$/.test(segments[segments.length - 1])
    ) {
      segments.pop();
    }
    return segments[segments.length - 1] ?? schemaId;
  }

  export function formatTime(timestamp: string): string {
    const date = new Date(timestamp);
    if (Number.isNaN(date.getTime())) {
      return timestamp;
    }
    const pad = (value: number, size = 2) => String(value).padStart(size, '0');
    return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
  }

  /**
   * The event's own fields on one line.
   */
  export function summarize(event: ReadonlyJSONObject): string {
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
    if (schema.client) {
      const badge = element('span', 'jp-EventViewer-badge');
      badge.textContent = 'from this browser';
      badge.title = 'This browser may send events of this schema';
      summary.append(badge);
    }
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
