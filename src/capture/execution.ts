import { type Notebook, NotebookPanel } from '@jupyterlab/notebook';
import type { JSONObject } from '@lumino/coreutils';

import type { CaptureEmitter } from './emitter';

/**
 * What NotebookActions says of a cell scheduled or executed.
 */
export interface IExecutionArgs {
  notebook: Notebook;
  cell: { model: any };
  success?: boolean;
  error?: { errorName: string } | null;
}

/**
 * The notebook panel of a notebook widget, when it has one, and whether
 * capture is off for it.
 */
export function panelOf(
  emitter: CaptureEmitter,
  notebook: Notebook
): { panel: NotebookPanel | null; optedOut: boolean } {
  const panel = notebook.parent;
  if (!(panel instanceof NotebookPanel)) {
    return { panel: null, optedOut: false };
  }
  return { panel, optedOut: emitter.optedOut(panel.context) };
}

/**
 * The fields naming the notebook of a notebook widget and its kernel.
 */
export function notebookFieldsOf(
  emitter: CaptureEmitter,
  panel: NotebookPanel | null
): JSONObject {
  return panel
    ? emitter.notebookFields(panel.context, panel.sessionContext)
    : {};
}

/**
 * Notebook code cells starting and finishing: success or the error's name,
 * duration, execution count and kernel name; never the source or outputs.
 */
export class ExecutionCapture {
  constructor(private _emitter: CaptureEmitter) {}

  onScheduled(_: unknown, { notebook, cell }: IExecutionArgs): void {
    if (cell.model.type !== 'code') {
      return;
    }
    this._started.set(cell.model, performance.now());
    const { panel, optedOut } = panelOf(this._emitter, notebook);
    if (this._emitter.capturing('cellExecution') && !optedOut) {
      this._emitter.emit('cellExecution', 'cellExecution', {
        phase: 'started',
        cell_id: cell.model.id,
        ...notebookFieldsOf(this._emitter, panel)
      });
    }
  }

  onExecuted(
    _: unknown,
    { notebook, cell, success, error }: IExecutionArgs
  ): void {
    if (cell.model.type !== 'code') {
      return;
    }
    const started = this._started.get(cell.model);
    this._started.delete(cell.model);
    const { panel, optedOut } = panelOf(this._emitter, notebook);
    if (!this._emitter.capturing('cellExecution') || optedOut) {
      return;
    }
    const count = cell.model.executionCount;
    const data: JSONObject = {
      phase: 'finished',
      cell_id: cell.model.id,
      ...notebookFieldsOf(this._emitter, panel),
      execution_count: typeof count === 'number' ? count : null,
      success: !!success
    };
    if (!success && error?.errorName) {
      data.error_name = error.errorName;
    }
    if (started !== undefined) {
      data.duration_ms = Math.round((performance.now() - started) * 10) / 10;
    }
    this._emitter.emit('cellExecution', 'cellExecution', data);
  }

  private _started = new WeakMap<object, number>();
}
