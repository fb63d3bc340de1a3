import type { JSONObject } from '@lumino/coreutils';

import type { CaptureEmitter } from './emitter';
import { type IExecutionArgs, notebookFieldsOf, panelOf } from './execution';

/**
 * A summary of a code cell's outputs once it executed: their types and MIME
 * types, and an error's name and message (capped); its traceback only when
 * operators opt in, capped too. Never the outputs themselves.
 */
export class OutputCapture {
  constructor(private _emitter: CaptureEmitter) {}

  onExecuted(_: unknown, { notebook, cell }: IExecutionArgs): void {
    if (cell.model.type !== 'code' || !this._emitter.capturing('cellOutputs')) {
      return;
    }
    const { panel, optedOut } = panelOf(this._emitter, notebook);
    if (optedOut) {
      return;
    }
    const config = this._emitter.config;
    const outputs = cell.model.outputs;
    const types: string[] = [];
    const mimeTypes = new Set<string>();
    let error: JSONObject | null = null;
    for (let i = 0; i < (outputs?.length ?? 0); i++) {
      const output = outputs.get(i).toJSON() as JSONObject;
      const type = String(output.output_type);
      if (types.length < OutputCapture.MAX_TYPES) {
        types.push(type);
      }
      const bundle = output.data;
      if (bundle && typeof bundle === 'object' && !Array.isArray(bundle)) {
        Object.keys(bundle).forEach(mime => mimeTypes.add(mime));
      }
      if (type === 'error' && error === null) {
        error = output;
      }
    }
    const data: JSONObject = {
      cell_id: cell.model.id,
      // A notebook outside a panel has no path: say so all the same.
      path_mode: this._emitter.paths.mode,
      ...notebookFieldsOf(this._emitter, panel),
      output_count: outputs?.length ?? 0,
      output_types: types,
      mime_types: [...mimeTypes].sort().slice(0, OutputCapture.MAX_TYPES)
    };
    if (error !== null) {
      data.error_name = String(error.ename ?? '');
      data.error_message = OutputCapture.cap(
        String(error.evalue ?? ''),
        OutputCapture.MAX_MESSAGE
      );
      if (config.outputTracebacks) {
        const lines = Array.isArray(error.traceback) ? error.traceback : [];
        const text = lines
          .map(String)
          .join('\n')
          .replace(OutputCapture.ANSI, '');
        data.traceback = OutputCapture.cap(text, config.outputTracebackMax);
        data.traceback_truncated = text.length > config.outputTracebackMax;
      }
    }
    this._emitter.emit('cellOutputs', 'cellOutputs', data);
  }
}

export namespace OutputCapture {
  /**
   * The most output types (and MIME types) one summary lists.
   */
  export const MAX_TYPES = 50;

  /**
   * The most characters of an error message recorded.
   */
  export const MAX_MESSAGE = 500;

  /**
   * Terminal colour codes, which tracebacks are full of.
   */
  // eslint-disable-next-line no-control-regex
  export const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

  /**
   * At most `max` characters of a text.
   */
  export function cap(text: string, max: number): string {
    return text.length > max ? text.slice(0, Math.max(0, max)) : text;
  }
}
