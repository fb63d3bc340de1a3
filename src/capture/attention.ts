import type { Cell } from '@jupyterlab/cells';
import type { Notebook, NotebookPanel } from '@jupyterlab/notebook';
import type { JSONObject } from '@lumino/coreutils';
import type { IDisposable } from '@lumino/disposable';
import { type Message, type MessageHook, MessageLoop } from '@lumino/messaging';

import type { CaptureEmitter } from './emitter';

/**
 * What the learner is looking at: the active cell changing, a notebook
 * becoming visible or hidden (a tab switch, the window losing or gaining
 * focus), and the range of cells in view after scrolling, sampled at most
 * once per `attentionSampleSeconds`.
 */
export class AttentionCapture implements IDisposable {
  constructor(private _emitter: CaptureEmitter) {
    window.addEventListener('blur', this._onWindow);
    window.addEventListener('focus', this._onWindow);
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Follow a notebook's active cell, visibility and scrolling.
   */
  watch(panel: NotebookPanel): void {
    const notebook = panel.content;
    const state: AttentionCapture.IState = {
      panel,
      visible: panel.isVisible,
      activeCell: notebook.activeCell?.model.id ?? null,
      sampledAt: -Infinity,
      range: null,
      timer: null
    };
    this._states.add(state);
    notebook.activeCellChanged.connect((_, cell: Cell | null) => {
      const id = cell?.model.id ?? null;
      if (id === state.activeCell) {
        return;
      }
      state.activeCell = id;
      if (cell && this._recording(panel)) {
        this._emit(panel, {
          action: 'active-cell',
          cell_id: id!,
          index: notebook.activeCellIndex
        });
      }
    }, this);
    // A tab switch shows one notebook and hides another.
    const hook: MessageHook = (_: unknown, message: Message) => {
      if (message.type === 'after-show') {
        this._setVisible(state, true, 'tab');
      } else if (message.type === 'after-hide') {
        this._setVisible(state, false, 'tab');
      }
      return true;
    };
    MessageLoop.installMessageHook(panel, hook);
    // Scroll events do not bubble: listen while they go down to the scroller.
    const onScroll = () => this._scrolled(state);
    notebook.node.addEventListener('scroll', onScroll, true);
    panel.disposed.connect(() => {
      MessageLoop.removeMessageHook(panel, hook);
      notebook.node.removeEventListener('scroll', onScroll, true);
      if (state.timer !== null) {
        clearTimeout(state.timer);
      }
      this._states.delete(state);
    }, this);
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    window.removeEventListener('blur', this._onWindow);
    window.removeEventListener('focus', this._onWindow);
    for (const state of this._states) {
      if (state.timer !== null) {
        clearTimeout(state.timer);
      }
    }
    this._states.clear();
  }

  private _onWindow = (event: Event): void => {
    // Blur and focus of the window itself, not of elements inside it.
    if (event.target !== window) {
      return;
    }
    for (const state of this._states) {
      if (state.panel.isVisible) {
        this._setVisible(state, event.type === 'focus', 'window');
      }
    }
  };

  private _setVisible(
    state: AttentionCapture.IState,
    visible: boolean,
    reason: 'tab' | 'window'
  ): void {
    if (state.visible === visible) {
      return;
    }
    state.visible = visible;
    if (this._recording(state.panel)) {
      this._emit(state.panel, {
        action: visible ? 'visible' : 'hidden',
        reason
      });
    }
  }

  private _scrolled(state: AttentionCapture.IState): void {
    if (state.timer !== null || !this._recording(state.panel)) {
      return;
    }
    const period = this._emitter.config.attentionSampleSeconds * 1000;
    // Once scrolling settles, and never sooner than a period after the last sample.
    const wait = Math.max(
      AttentionCapture.SETTLE_MS,
      state.sampledAt + period - performance.now()
    );
    state.timer = setTimeout(() => {
      state.timer = null;
      this._sample(state);
    }, wait);
  }

  private _sample(state: AttentionCapture.IState): void {
    const { panel } = state;
    if (panel.isDisposed || !this._recording(panel)) {
      return;
    }
    const range = AttentionCapture.cellsInView(panel.content);
    if (
      range === null ||
      (state.range !== null &&
        state.range.first === range.first &&
        state.range.last === range.last)
    ) {
      return;
    }
    state.range = range;
    state.sampledAt = performance.now();
    const widgets = panel.content.widgets;
    this._emit(panel, {
      action: 'cells-in-view',
      first_index: range.first,
      last_index: range.last,
      first_cell_id: widgets[range.first].model.id,
      last_cell_id: widgets[range.last].model.id,
      cell_count: widgets.length
    });
  }

  private _recording(panel: NotebookPanel): boolean {
    return (
      this._emitter.capturing('attention') &&
      !this._emitter.optedOut(panel.context)
    );
  }

  private _emit(panel: NotebookPanel, data: JSONObject): void {
    this._emitter.emit('attention', 'attention', {
      ...data,
      ...this._emitter.notebookFields(panel.context)
    });
  }

  private _isDisposed = false;
  private _states = new Set<AttentionCapture.IState>();
}

export namespace AttentionCapture {
  /**
   * How long scrolling rests before the cells in view are read (ms).
   */
  export const SETTLE_MS = 500;

  export interface IState {
    panel: NotebookPanel;
    visible: boolean;
    activeCell: string | null;
    sampledAt: number;
    range: { first: number; last: number } | null;
    timer: ReturnType<typeof setTimeout> | null;
  }

  /**
   * The first and last cells (indices) at least partly in the notebook's view;
   * null when none is.
   */
  export function cellsInView(
    notebook: Notebook
  ): { first: number; last: number } | null {
    const view = notebook.node.getBoundingClientRect();
    let first = -1;
    let last = -1;
    const widgets = notebook.widgets;
    for (let i = 0; i < widgets.length; i++) {
      const node = widgets[i].node;
      // Cells the windowed notebook has not rendered are out of view.
      if (!node.isConnected) {
        continue;
      }
      const box = node.getBoundingClientRect();
      if (box.height > 0 && box.bottom > view.top && box.top < view.bottom) {
        if (first < 0) {
          first = i;
        }
        last = i;
      } else if (first >= 0) {
        break;
      }
    }
    return first < 0 ? null : { first, last };
  }
}
