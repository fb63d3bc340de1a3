import { Clipboard } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { copyIcon } from '@jupyterlab/ui-components';

import { shortName } from '../client/schemaName';
import type { IEventsClient } from '../tokens';
import { element } from './dom';
import type { EventLog } from './eventLog';

/**
 * The Event Viewer's rows: the newest events of its log that match, newest
 * first, each a time, a schema, a version and a summary that expands to the
 * full JSON and can be copied; with the line that counts them.
 *
 * A render touches only the rows that changed (mostly a few new ones on top
 * and as many old ones gone at the bottom), keeps the rows already there (a
 * row opened stays open), and makes at most `ROWS_PER_FRAME` new rows, so
 * that no frame is long.
 */
export class EventRows {
  constructor(options: EventRows.IOptions) {
    this._log = options.log;
    this._trans = options.trans;
    this._maxRows = options.maxRows;
    this._now = options.now;
    this.list = element('ul', 'jp-EventViewer-list');
    this.list.setAttribute(
      'aria-label',
      this._trans.__('Events, newest first')
    );
    this.empty = element('p', 'jp-EventViewer-empty');
    this.count = element('span', 'jp-EventViewer-count');
  }

  /**
   * The most rows made in one frame.
   */
  static readonly ROWS_PER_FRAME = 100;

  /**
   * The list of rows.
   */
  readonly list: HTMLUListElement;

  /**
   * What the list says when it has no row.
   */
  readonly empty: HTMLParagraphElement;

  /**
   * How many events are shown, kept and held back.
   */
  readonly count: HTMLSpanElement;

  /**
   * The newest event key the last render drew from: what arrived later was
   * never on screen.
   */
  get drawn(): number {
    return this._drawn;
  }

  /**
   * Render the newest matching rows in one replacement of the list.
   *
   * @returns whether every row is made; `false` when more are left for the
   *   next frame
   */
  render(): boolean {
    this._drawn = this._log.newestKey;
    const { entries, total } = this._log.newest(this._maxRows);
    const rows = new Map<number, HTMLLIElement>();
    // New rows are made a batch a frame, newest first; the rest follow at
    // the next frames.
    let made = 0;
    let complete = true;
    for (const entry of entries) {
      let row = this._rows.get(entry.key);
      if (!row) {
        if (made === EventRows.ROWS_PER_FRAME) {
          complete = false;
          break;
        }
        row = this._row(entry);
        made++;
      }
      rows.set(entry.key, row);
    }
    for (const [key, row] of this._rows) {
      if (!rows.has(key)) {
        row.remove();
      }
    }
    this._rows = rows;
    // The new rows go in as fragments, between the rows already there.
    let next = this.list.firstElementChild;
    let fragment: DocumentFragment | null = null;
    for (const row of rows.values()) {
      if (row === next) {
        if (fragment) {
          this.list.insertBefore(fragment, next);
          fragment = null;
        }
        next = next.nextElementSibling;
      } else {
        fragment = fragment ?? document.createDocumentFragment();
        fragment.append(row);
      }
    }
    if (fragment) {
      this.list.insertBefore(fragment, next);
    }
    this._renderCounts(rows.size, total);
    return complete;
  }

  private _renderCounts(shown: number, total: number): void {
    const trans = this._trans;
    const kept = this._log.size;
    this.empty.hidden = shown > 0;
    this.empty.textContent = kept
      ? trans.__('No event matches the filter and search.')
      : this._log.paused
        ? trans.__('Paused.')
        : trans.__('Waiting for events…');
    const held = this._log.heldCount;
    const counts = [
      shown < total
        ? trans.__('Showing the newest %1 of %2 matching events', shown, total)
        : trans._n('%1 event shown', '%1 events shown', total)
    ];
    if (total < kept) {
      counts.push(trans._n('%1 kept', '%1 kept', kept));
    }
    if (held) {
      counts.push(trans._n('%1 new while paused', '%1 new while paused', held));
    }
    this.count.textContent = counts.join(' · ');
  }

  private _row(entry: EventLog.IEntry): HTMLLIElement {
    const trans = this._trans;
    const { event, schemaId } = entry;
    const row = element('li', 'jp-EventViewer-row');
    row.dataset.schema = schemaId;
    row.dataset.seq = String(entry.seq);
    const details = element('details', 'jp-EventViewer-details');
    const summary = element('summary', 'jp-EventViewer-summary');
    const time = element('time', 'jp-EventViewer-time');
    time.dateTime = event.__timestamp__;
    time.textContent = formatEventTime(event.__timestamp__, this._now());
    time.title = event.__timestamp__;
    const schema = element('span', 'jp-EventViewer-schema');
    schema.textContent = shortName(schemaId);
    schema.title = schemaId;
    const version = element('span', 'jp-EventViewer-version');
    version.textContent = `v${event.__schema_version__}`;
    const text = element('span', 'jp-EventViewer-text');
    text.textContent = Private.summarize(event);
    summary.append(time, schema, version);
    if (entry.late) {
      row.classList.add('jp-mod-late');
      const late = element('span', 'jp-EventViewer-late');
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
        const json = element('pre', 'jp-EventViewer-json');
        json.textContent = JSON.stringify(event, null, 2);
        details.append(json);
      }
    });
    row.append(details, this._copyButton(event));
    return row;
  }

  private _copyButton(event: IEventsClient.IEnvelope): HTMLButtonElement {
    const trans = this._trans;
    const copy = element(
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
    return copy;
  }

  private _drawn = 0;
  private _log: EventLog;
  private _maxRows: number;
  private _now: () => Date;
  private _rows = new Map<number, HTMLLIElement>();
  private _trans: TranslationBundle;
}

export namespace EventRows {
  export interface IOptions {
    log: EventLog;
    trans: TranslationBundle;
    /**
     * The most rows rendered, the newest that match.
     */
    maxRows: number;
    /**
     * The current time (for "today").
     */
    now: () => Date;
  }
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
  /**
   * The event's own fields on one line.
   */
  export function summarize(event: IEventsClient.IEnvelope): string {
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
}
