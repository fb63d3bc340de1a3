import { existsSync, readFileSync, statSync } from 'fs';

/**
 * An event as the server writes it, one JSON object per line.
 */
export interface IEnvelope {
  __timestamp__: string;
  __schema__: string;
  __schema_version__: string | number;
  __metadata_version__: number;
  /**
   * The client id of an event a browser posted.
   */
  __id__?: string;
  [key: string]: any;
}

export const SCHEMA = {
  command: 'https://events.jupyter.org/jupyter_events_ext/command/v1',
  document: 'https://events.jupyter.org/jupyter_events_ext/document/v1',
  cellExecution:
    'https://events.jupyter.org/jupyter_events_ext/cell-execution/v1',
  kernel: 'https://events.jupyter.org/jupyter_events_ext/kernel/v1',
  activeDocument:
    'https://events.jupyter.org/jupyter_events_ext/active-document/v1'
};

/**
 * The server's JSON-lines sink: what it recorded since a test began.
 */
export class Sink {
  constructor(readonly path = process.env.JUPYTER_EVENTS_EXT_SINK!) {
    this._start = existsSync(path) ? statSync(path).size : 0;
  }

  /**
   * The events recorded since this sink was created, of one schema if given.
   */
  events(schema?: string): IEnvelope[] {
    if (!existsSync(this.path)) {
      return [];
    }
    const text = readFileSync(this.path).subarray(this._start).toString('utf8');
    return text
      .split('\n')
      .filter(line => line.trim() !== '')
      .map(line => JSON.parse(line) as IEnvelope)
      .filter(event => schema === undefined || event.__schema__ === schema);
  }

  private _start: number;
}
