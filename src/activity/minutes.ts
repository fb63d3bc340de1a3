/**
 * A minute, in milliseconds.
 */
export const MINUTE = 60 * 1000;

/**
 * Counts per minute and key, for the `size` minutes up to the newest one
 * counted; older minutes are dropped as newer ones arrive, and counts older
 * than the window are not kept.
 */
export class MinuteCounts {
  constructor(readonly size: number) {}

  /**
   * The newest minute counted, in ms since the epoch.
   */
  get newest(): number | null {
    return this._newest;
  }

  /**
   * The oldest minute kept, in ms since the epoch.
   */
  get oldest(): number | null {
    let oldest: number | null = null;
    for (const minute of this._buckets.keys()) {
      if (oldest === null || minute < oldest) {
        oldest = minute;
      }
    }
    return oldest;
  }

  /**
   * Move the window on to end at the minute of `time`, if that is newer.
   */
  advance(time: number): void {
    const minute = Math.floor(time / MINUTE) * MINUTE;
    if (this._newest === null || minute > this._newest) {
      this._newest = minute;
      this._prune();
    }
  }

  add(time: number, key: string): void {
    this.advance(time);
    const minute = Math.floor(time / MINUTE) * MINUTE;
    if (minute <= this._newest! - this.size * MINUTE) {
      return; // before the window
    }
    let counts = this._buckets.get(minute);
    if (!counts) {
      counts = new Map();
      this._buckets.set(minute, counts);
    }
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }

  /**
   * `[minute (RFC 3339), key, count]`, oldest minute first, keys sorted.
   */
  rows(): [string, string, number][] {
    const rows: [string, string, number][] = [];
    const minutes = [...this._buckets.keys()].sort((a, b) => a - b);
    for (const minute of minutes) {
      const iso = new Date(minute).toISOString();
      const counts = this._buckets.get(minute)!;
      for (const key of [...counts.keys()].sort(compare)) {
        rows.push([iso, key, counts.get(key)!]);
      }
    }
    return rows;
  }

  clear(): void {
    this._buckets.clear();
    this._newest = null;
  }

  private _prune(): void {
    const oldest = this._newest! - (this.size - 1) * MINUTE;
    for (const minute of this._buckets.keys()) {
      if (minute < oldest) {
        this._buckets.delete(minute);
      }
    }
  }

  private _buckets = new Map<number, Map<string, number>>();
  private _newest: number | null = null;
}

/**
 * Strings in code point order, the same in every locale.
 */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
