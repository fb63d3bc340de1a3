import type { IRenderMime, IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { MimeModel } from '@jupyterlab/rendermime';
import {
  type ITranslator,
  nullTranslator,
  type TranslationBundle
} from '@jupyterlab/translation';
import type { JSONObject } from '@lumino/coreutils';
import type { Message } from '@lumino/messaging';
import { Panel, Widget } from '@lumino/widgets';

import type { IEventsClient } from '../tokens';
import { CHART_IDS, type ChartId, chartSpec, VEGALITE_MIME } from './charts';
import { ActivityModel } from './model';
import { outcomeColors, themeConfig } from './theme';

/**
 * The Activity view: charts of the server's events (per minute by schema,
 * cell durations, cell failures, the top commands), drawn by JupyterLab's own
 * Vega-Lite renderer from the live stream, beginning with what the server
 * still buffers.
 *
 * Events are aggregated as they arrive (`ActivityModel`); the charts are drawn
 * at most once per `renderInterval`, only while the view is visible, and only
 * those whose spec changed. Each chart keeps the spec it last gave the
 * renderer in a `<script type="application/vnd.vegalite.v5+json">`, so that a
 * test (or a curious person) can read the data it drew.
 */
export class ActivityView extends Panel {
  constructor(options: ActivityView.IOptions) {
    super();
    this.addClass('jp-ActivityView');
    this._client = options.client;
    this._rendermime = options.rendermime;
    this._trans = (options.translator ?? nullTranslator).load(
      'jupyter_events_ext'
    );
    this._renderInterval = options.renderInterval ?? 1000;
    this.model = new ActivityModel(options.model);

    const trans = this._trans;
    const header = new Widget();
    header.addClass('jp-ActivityView-header');
    this._summary = document.createElement('p');
    this._summary.className = 'jp-ActivityView-summary';
    this._connection = document.createElement('span');
    this._connection.className = 'jp-ActivityView-connection';
    header.node.append(this._summary, this._connection);
    this.addWidget(header);

    const titles: Record<ChartId, [string, string]> = {
      events: [trans.__('Events per minute'), trans.__('No events yet.')],
      durations: [
        trans.__('Cell execution durations'),
        trans.__('No cell has finished running yet.')
      ],
      failures: [
        trans.__('Cell failures per minute'),
        trans.__('No cell has failed.')
      ],
      commands: [trans.__('Top commands'), trans.__('No commands yet.')]
    };
    // Without JupyterLab's vega5-extension the events are still counted.
    const canDraw = this._rendermime.mimeTypes.includes(VEGALITE_MIME);
    const cannotDraw = trans.__(
      'JupyterLab’s Vega-Lite renderer (@jupyterlab/vega5-extension) is not enabled: the charts cannot be drawn.'
    );
    const grid = new Panel();
    grid.addClass('jp-ActivityView-charts');
    for (const id of CHART_IDS) {
      const [title, empty] = titles[id];
      const chart = new Private.Chart(
        id,
        title,
        canDraw ? empty : cannotDraw,
        canDraw ? this._rendermime.createRenderer(VEGALITE_MIME) : null
      );
      this._charts.set(id, chart);
      grid.addWidget(chart);
    }
    this.addWidget(grid);

    // Replay what the server still buffers: the charts open on recent history.
    this._subscription = this._client.subscribe({ after: 0 });
    this._subscription.stream.connect(this._onEvent, this);
    this._subscription.connectionChanged.connect(this._renderConnection, this);
    this._renderConnection();
    this._renderSummary();
    this._scheduleRender();
  }

  /**
   * The aggregated events.
   */
  readonly model: ActivityModel;

  /**
   * The spec each chart last gave the renderer (`null` before it drew).
   */
  get specs(): Readonly<Record<ChartId, JSONObject | null>> {
    const specs = {} as Record<ChartId, JSONObject | null>;
    for (const [id, chart] of this._charts) {
      specs[id] = chart.spec;
    }
    return specs;
  }

  /**
   * Draw the charts again in the colours of the theme now in force.
   */
  refreshTheme(): void {
    this._scheduleRender();
  }

  /**
   * Close the subscription.
   */
  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._subscription.dispose();
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._scheduleRender();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this._scheduleRender();
  }

  protected onResize(msg: Widget.ResizeMessage): void {
    super.onResize(msg);
    this._scheduleRender();
  }

  private _onEvent(
    _: IEventsClient.ISubscription,
    message: IEventsClient.IStreamMessage
  ): void {
    if (this.model.add(message.event)) {
      this._scheduleRender();
    }
  }

  /**
   * Draw soon: at once if the last drawing is `renderInterval` old, else when
   * it will be, whatever arrives meanwhile.
   */
  private _scheduleRender(): void {
    if (this._timer !== null || this.isDisposed) {
      return;
    }
    const wait = Math.max(
      0,
      this._lastRender + this._renderInterval - Date.now()
    );
    this._timer = setTimeout(() => {
      this._timer = null;
      this._render();
    }, wait);
  }

  private _render(): void {
    this._renderSummary();
    if (!this.isVisible) {
      return; // onAfterShow draws what changed meanwhile
    }
    this._lastRender = Date.now();
    const style = getComputedStyle(document.body);
    const read = (variable: string) => style.getPropertyValue(variable);
    const config = themeConfig(read);
    const colors = outcomeColors(read);
    for (const chart of this._charts.values()) {
      const spec = chartSpec(
        chart.chartId,
        this.model,
        { config, width: chart.plotWidth(), outcomeColors: colors },
        this._trans
      );
      void chart.draw(spec).then(again => {
        if (again) {
          this._scheduleRender();
        }
      });
    }
  }

  private _renderSummary(): void {
    const { events, executions, failures } = this.model.totals;
    const since = this.model.since;
    const trans = this._trans;
    const parts = [
      since === null
        ? trans._n('%1 event', '%1 events', events)
        : trans._n(
            '%1 event since %2',
            '%1 events since %2',
            events,
            new Date(since).toLocaleString()
          ),
      trans._n('%1 cell run', '%1 cells run', executions),
      trans._n('%1 failed', '%1 failed', failures)
    ];
    this._summary.textContent = parts.join(' · ');
  }

  private _renderConnection(): void {
    const subscription = this._subscription;
    const live = subscription.connected;
    this._connection.textContent = live
      ? this._trans.__('Live')
      : this._trans.__('Not connected');
    this._connection.title = live
      ? this._trans.__('Following the live event stream')
      : (subscription.reason?.message ??
        this._trans.__('Reconnecting to the live event stream…'));
    this._connection.classList.toggle('jp-mod-live', live);
  }

  private _charts = new Map<ChartId, Private.Chart>();
  private _client: IEventsClient;
  private _connection: HTMLSpanElement;
  private _lastRender = 0;
  private _rendermime: IRenderMimeRegistry;
  private _renderInterval: number;
  private _subscription: IEventsClient.ISubscription;
  private _summary: HTMLParagraphElement;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _trans: TranslationBundle;
}

/**
 * The statics of the Activity view.
 */
export namespace ActivityView {
  export interface IOptions {
    /**
     * The events client whose stream the view follows.
     */
    client: IEventsClient;
    /**
     * The registry that provides the Vega-Lite renderer.
     */
    rendermime: IRenderMimeRegistry;
    /**
     * The translator of the view's text.
     */
    translator?: ITranslator;
    /**
     * The least time between two drawings, in ms (1000 by default).
     */
    renderInterval?: number;
    /**
     * The bounds of the aggregation.
     */
    model?: ActivityModel.IOptions;
  }
}

namespace Private {
  /**
   * The narrowest a chart is drawn, in pixels.
   */
  const MIN_WIDTH = 240;

  /**
   * One chart: its title, what it says while empty, the renderer, and the
   * spec last given to the renderer.
   */
  export class Chart extends Panel {
    constructor(
      readonly chartId: ChartId,
      title: string,
      empty: string,
      private readonly _renderer: IRenderMime.IRenderer | null
    ) {
      super();
      this.addClass('jp-ActivityView-chart');
      this.node.dataset.chart = chartId;
      this.node.setAttribute('role', 'figure');
      this.node.setAttribute('aria-label', title);
      const heading = document.createElement('h2');
      heading.className = 'jp-ActivityView-title';
      heading.textContent = title;
      this._empty = document.createElement('p');
      this._empty.className = 'jp-ActivityView-empty';
      this._empty.textContent = empty;
      this._script = document.createElement('script');
      this._script.type = VEGALITE_MIME;
      this._script.className = 'jp-ActivityView-spec';
      // A widget of its own, so that the panel puts the plot after it.
      const caption = new Widget();
      caption.node.append(heading, this._empty, this._script);
      this.addWidget(caption);
      if (this._renderer) {
        this._renderer.addClass('jp-ActivityView-plot');
        this._renderer.hide();
        this.addWidget(this._renderer);
      }
    }

    /**
     * The spec last given to the renderer.
     */
    get spec(): JSONObject | null {
      return this._spec;
    }

    /**
     * The width the chart has to draw in.
     */
    plotWidth(): number {
      return Math.max(MIN_WIDTH, Math.floor(this.node.clientWidth) - 16);
    }

    /**
     * Draw `spec`, or say the chart is empty when it is `null`. Resolves
     * with whether the chart must be drawn again: a newer spec came while
     * the renderer was busy with an older one.
     */
    async draw(spec: JSONObject | null): Promise<boolean> {
      const renderer = this._renderer;
      if (!renderer) {
        return false; // the empty note says why
      }
      const text = spec === null ? '' : JSON.stringify(spec);
      if (text === this._shown) {
        return false;
      }
      if (this._busy) {
        this._stale = true;
        return false;
      }
      this._shown = text;
      this._empty.hidden = spec !== null;
      if (spec === null) {
        renderer.hide();
        return false;
      }
      this._spec = spec;
      this._script.textContent = text;
      renderer.show();
      this._busy = true;
      try {
        await renderer.renderModel(
          new MimeModel({
            data: { [VEGALITE_MIME]: spec },
            metadata: {
              [VEGALITE_MIME]: {
                // No "…" menu of exports and editors: the charts are live.
                embed_options: { actions: false, renderer: 'svg' }
              }
            }
          })
        );
      } catch (reason) {
        console.error(
          `jupyter-events-ext: cannot draw the ${this.chartId} chart`,
          reason
        );
      } finally {
        this._busy = false;
      }
      const again = this._stale;
      this._stale = false;
      return again;
    }

    private _busy = false;
    private _empty: HTMLParagraphElement;
    private _script: HTMLScriptElement;
    private _shown: string | null = null;
    private _spec: JSONObject | null = null;
    private _stale = false;
  }
}
