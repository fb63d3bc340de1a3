import type { IDisposable } from '@lumino/disposable';

import type { IEventsClient } from '../tokens';
import { type ICaptureConfig, type Kind, SCHEMAS, VERSION } from './config';
import type { RateLimiter } from './ratelimit';

/**
 * Records what the rate limit dropped, as `capture-drops` events: one per
 * kind, at most every {@link DropReports.INTERVAL_MS}, so that an analysis
 * knows where the record is incomplete instead of reading a gap as
 * inactivity. A report waiting when the page is hidden is sent then.
 */
export class DropReports implements IDisposable {
  constructor(options: DropReports.IOptions) {
    this._client = options.client;
    this._config = options.config;
    this._limiter = options.limiter;
    this._limiter.dropsChanged.connect(this._schedule, this);
    window.addEventListener('pagehide', this._onPageHide);
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Record the drops not reported yet, now.
   */
  report(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    const unreported = this._limiter.takeUnreported();
    const config = this._config();
    if (!config.enabled) {
      return; // capture was turned off (or consent withdrawn) meanwhile
    }
    for (const [kind, { dropped, first, last }] of unreported) {
      this._client
        .emit(
          SCHEMAS.captureDrops,
          {
            kind,
            dropped,
            rate_limit: Math.max(0, Math.floor(config.rateLimit)), // as the limiter reads it
            first: new Date(first).toISOString(),
            last: new Date(last).toISOString()
          },
          VERSION
        )
        .catch(reason =>
          console.warn('jupyter-events-ext: cannot record the drops', reason)
        );
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this.report();
    window.removeEventListener('pagehide', this._onPageHide);
    this._limiter.dropsChanged.disconnect(this._schedule, this);
  }

  private _schedule(): void {
    if (this._timer === null && !this._isDisposed) {
      this._timer = setTimeout(() => this.report(), DropReports.INTERVAL_MS);
    }
  }

  private _onPageHide = (): void => this.report();

  private _client: IEventsClient;
  private _config: () => ICaptureConfig;
  private _isDisposed = false;
  private _limiter: RateLimiter<Kind>;
  private _timer: ReturnType<typeof setTimeout> | null = null;
}

export namespace DropReports {
  export interface IOptions {
    client: IEventsClient;
    config: () => ICaptureConfig;
    limiter: RateLimiter<Kind>;
  }

  /**
   * How often a kind's drops are reported at most.
   */
  export const INTERVAL_MS = 10_000;
}
