import type { ReadonlyJSONObject } from '@lumino/coreutils';
import { type ISignal, Signal } from '@lumino/signaling';

import type { IEventsClient } from '../tokens';

/**
 * The events the Event Viewer holds: every event received, up to a bound,
 * in event-time order, and what the filter and search let through.
 *
 * The filter and search are applied to all of them before the view takes
 * the newest few to render, so a rare event is found even among thousands
 * of others. Events whose time is earlier than one already received are put
 * in their place, so the order shown is the order things happened; those
 * over two seconds behind (a queue emptied after an outage, another tab's
 * batch) are marked `late`.
 */
export class EventLog {
  constructor(options: EventLog.IOptions = {}) {
    this.capacity = options.capacity ?? EventLog.DEFAULT_CAPACITY;
  }

  /**
   * The most events kept; the earliest go first.
   */
  static readonly DEFAULT_CAPACITY = 10000;

  /**
   * How many milliseconds an event's time may be behind the latest event
   * already kept before it is marked late (two default batch intervals).
   */
  static readonly LATE_AFTER = 2000;

  /**
   * The most events kept.
   */
  readonly capacity: number;

  /**
   * A signal emitted when the events or what matches change.
   */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /**
   * How many events are kept (held back ones aside).
   */
  get size(): number {
    return this._entries.length;
  }

  /**
   * The schema ids seen, in no order.
   */
  get schemaIds(): ReadonlySet<string> {
    return this._schemaIds;
  }

  /**
   * The schema shown, or `null` for every schema.
   */
  get schemaId(): string | null {
    return this._schemaId;
  }
  set schemaId(value: string | null) {
    if (value !== this._schemaId) {
      this._schemaId = value || null;
      this._changed.emit();
    }
  }

  /**
   * The text every event shown contains somewhere in its JSON (field names
   * and values), case aside; `''` for every event.
   */
  get query(): string {
    return this._query;
  }
  set query(value: string) {
    if (value !== this._query) {
      this._query = value;
      this._needle = value.trim().toLowerCase();
      this._changed.emit();
    }
  }

  /**
   * Whether new events are held back rather than added.
   */
  get paused(): boolean {
    return this._paused;
  }
  set paused(value: boolean) {
    if (value) {
      this.pause();
    } else if (this._paused) {
      this._paused = false;
      const held = this._held;
      this._held = [];
      this._insert(held);
      this._changed.emit();
    }
  }

  /**
   * The key of the newest event received (0 before any).
   */
  get newestKey(): number {
    return this._arrivals;
  }

  /**
   * Hold new events back. `drawn` is the newest key a view has drawn: the
   * events received after it, which it has not drawn yet, are held back too,
   * so that no row appears once paused. By default every event received so
   * far stays.
   */
  pause(drawn = this._arrivals): void {
    if (this._paused) {
      return;
    }
    this._paused = true;
    if (drawn < this._arrivals) {
      this._held = this._entries
        .filter(entry => entry.key > drawn)
        .sort((a, b) => a.key - b.key);
      this._entries = this._entries.filter(entry => entry.key <= drawn);
    }
    this._changed.emit();
  }

  /**
   * How many events wait for resuming.
   */
  get heldCount(): number {
    return this._held.length;
  }

  /**
   * Add events in the order they arrived.
   */
  add(messages: ReadonlyArray<IEventsClient.IStreamMessage>): void {
    if (!messages.length) {
      return;
    }
    const entries = messages.map(message => this._entry(message));
    if (this._paused) {
      this._held.push(...entries);
      if (this._held.length > this.capacity) {
        this._held.splice(0, this._held.length - this.capacity);
      }
    } else {
      this._insert(entries);
    }
    this._changed.emit();
  }

  /**
   * Forget every event, held back ones too.
   */
  clear(): void {
    this._entries = [];
    this._held = [];
    this._changed.emit();
  }

  /**
   * Whether an event passes the filter and the search.
   */
  matches(entry: EventLog.IEntry): boolean {
    if (this._schemaId !== null && entry.schemaId !== this._schemaId) {
      return false;
    }
    return !this._needle || Private.text(entry).includes(this._needle);
  }

  /**
   * The events that match, earliest first.
   */
  matching(): EventLog.IEntry[] {
    return this._entries.filter(entry => this.matches(entry));
  }

  /**
   * The newest `limit` events that match, newest first, and how many match
   * in all.
   */
  newest(limit: number): { entries: EventLog.IEntry[]; total: number } {
    const entries: EventLog.IEntry[] = [];
    let total = 0;
    for (let i = this._entries.length - 1; i >= 0; i--) {
      const entry = this._entries[i];
      if (this.matches(entry)) {
        total++;
        if (entries.length < limit) {
          entries.push(entry);
        }
      }
    }
    return { entries, total };
  }

  private _entry(message: IEventsClient.IStreamMessage): EventLog.IEntry {
    const event = message.event;
    const time = Date.parse(event.__timestamp__);
    return {
      key: ++this._arrivals,
      seq: message.seq,
      event,
      schemaId: event.__schema__,
      time: Number.isNaN(time) ? -Infinity : time,
      late: false
    };
  }

  /**
   * Put events in event-time order; an event earlier than the latest one
   * kept is late. Events mostly arrive in order: the search from the end
   * stops at once.
   */
  private _insert(entries: EventLog.IEntry[]): void {
    const list = this._entries;
    for (const entry of entries) {
      this._schemaIds.add(entry.schemaId);
      let at = list.length;
      while (at > 0 && list[at - 1].time > entry.time) {
        at--;
      }
      if (at === list.length) {
        list.push(entry);
      } else {
        // Batches from browsers are a second or so behind the server's own
        // events: only a longer delay is worth a mark.
        entry.late =
          list[list.length - 1].time - entry.time > EventLog.LATE_AFTER;
        list.splice(at, 0, entry);
      }
    }
    if (list.length > this.capacity) {
      list.splice(0, list.length - this.capacity);
    }
  }

  private _arrivals = 0;
  private _changed = new Signal<this, void>(this);
  private _entries: EventLog.IEntry[] = [];
  private _held: EventLog.IEntry[] = [];
  private _needle = '';
  private _paused = false;
  private _query = '';
  private _schemaId: string | null = null;
  private _schemaIds = new Set<string>();
}

/**
 * The types of the event log.
 */
export namespace EventLog {
  export interface IOptions {
    /**
     * The most events kept (10,000 by default, as many as the server's
     * stream buffers by default).
     */
    capacity?: number;
  }

  /**
   * One event kept.
   */
  export interface IEntry {
    /**
     * Unique among the entries of this log (a stream position repeats
     * after the server restarts).
     */
    readonly key: number;
    /**
     * The event's position in the server's run.
     */
    readonly seq: number;
    readonly event: IEventsClient.IStreamMessage['event'];
    readonly schemaId: string;
    /**
     * The event time in milliseconds since the epoch.
     */
    readonly time: number;
    /**
     * Whether it arrived after an event over `LATE_AFTER` ms later.
     */
    late: boolean;
  }

  /**
   * Events as JSON lines, one envelope a line.
   */
  export function toJSONLines(entries: ReadonlyArray<IEntry>): string {
    return entries.map(entry => `${JSON.stringify(entry.event)}\n`).join('');
  }
}

namespace Private {
  const texts = new WeakMap<ReadonlyJSONObject, string>();

  /**
   * The event's JSON, lower case, made once: what the search looks in.
   */
  export function text(entry: EventLog.IEntry): string {
    let value = texts.get(entry.event);
    if (value === undefined) {
      value = JSON.stringify(entry.event).toLowerCase();
      texts.set(entry.event, value);
    }
    return value;
  }
}
