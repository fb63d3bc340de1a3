import type { IDisposable } from '@lumino/disposable';
import { type ISignal, Signal } from '@lumino/signaling';

/**
 * At most `limit` events of one kind in any minute; the rest are dropped and
 * counted, so that no kind can flood the queue.
 *
 * Exact over a sliding minute: each kind keeps the times of its last `limit`
 * events in a ring, and an event is admitted when the oldest of them is more
 * than a minute old.
 */
export class RateLimiter<K extends string> implements IDisposable {
  constructor(
    private _limit: () => number,
    private _now: () => number = () => Date.now()
  ) {}

  /**
   * The events dropped so far, per kind (kinds never dropped are absent).
   */
  get drops(): Readonly<Partial<Record<K, number>>> {
    return this._drops;
  }

  /**
   * Emitted with the drop counts when they grow, at most once a second.
   */
  get dropsChanged(): ISignal<this, Readonly<Partial<Record<K, number>>>> {
    return this._dropsChanged;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * The drops since the last call, per kind, with when the first and the last
   * of them happened; the next call starts afresh.
   */
  takeUnreported(): Map<K, RateLimiter.IDropped> {
    const taken = this._unreported;
    this._unreported = new Map();
    return taken;
  }

  /**
   * Whether one more event of this kind may be recorded now; counts it if so,
   * counts a drop if not.
   */
  admit(kind: K): boolean {
    const limit = Math.max(0, Math.floor(this._limit()));
    let ring = this._rings.get(kind);
    if (ring === undefined || ring.times.length !== limit) {
      // A new limit starts a new window: simpler than carrying times over.
      ring = { times: new Array<number>(limit).fill(-Infinity), next: 0 };
      this._rings.set(kind, ring);
    }
    const now = this._now();
    if (limit > 0 && ring.times[ring.next] <= now - Private.WINDOW_MS) {
      ring.times[ring.next] = now;
      ring.next = (ring.next + 1) % limit;
      return true;
    }
    this._drops = { ...this._drops, [kind]: (this._drops[kind] ?? 0) + 1 };
    const unreported = this._unreported.get(kind);
    if (unreported) {
      unreported.dropped += 1;
      unreported.last = now;
    } else {
      this._unreported.set(kind, { dropped: 1, first: now, last: now });
    }
    this._signalDrops();
    return false;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    if (this._timer !== null) {
      clearTimeout(this._timer);
    }
    Signal.clearData(this);
  }

  private _signalDrops(): void {
    // A flood drops thousands a second: whoever shows the counts hears of
    // them once a second at most.
    if (this._timer !== null) {
      return;
    }
    this._timer = setTimeout(() => {
      this._timer = null;
      if (!this._isDisposed) {
        this._dropsChanged.emit(this._drops);
      }
    }, Private.SIGNAL_MS);
  }

  private _drops: Partial<Record<K, number>> = {};
  private _dropsChanged = new Signal<
    this,
    Readonly<Partial<Record<K, number>>>
  >(this);
  private _isDisposed = false;
  private _rings = new Map<K, { times: number[]; next: number }>();
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _unreported = new Map<K, RateLimiter.IDropped>();
}

export namespace RateLimiter {
  /**
   * Drops of one kind: how many, and when the first and the last happened
   * (milliseconds since the epoch).
   */
  export interface IDropped {
    dropped: number;
    first: number;
    last: number;
  }
}

namespace Private {
  export const WINDOW_MS = 60_000;
  export const SIGNAL_MS = 1000;
}
