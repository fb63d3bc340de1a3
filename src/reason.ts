import { ServerConnection } from '@jupyterlab/services';

import type { IEventsClient } from './tokens';

/**
 * Why a request to the server extension failed, as the client's state and
 * the Event Viewer say it: each status means one thing.
 */
export function reasonOf(error: unknown): IEventsClient.IReason {
  if (!(error instanceof ServerConnection.ResponseError)) {
    return {
      kind: 'unreachable',
      status: null,
      message: 'The server cannot be reached; retrying.'
    };
  }
  const status = error.response.status;
  if (status === 401 || status === 403) {
    return {
      kind: 'not-authorized',
      status,
      message: `Not authorized to record events (${status}${Private.detail(error)}).`
    };
  }
  if (status === 404) {
    // The body is jupyter_server's HTML page: nothing worth quoting.
    return {
      kind: 'not-installed',
      status,
      message:
        'The jupyter_events_ext server extension is not installed or not enabled on this server (404).'
    };
  }
  return {
    kind: 'server-error',
    status,
    message: `The server failed (${status}${Private.detail(error)}); retrying.`
  };
}

namespace Private {
  /**
   * The server's own message, when it sent a short one.
   */
  export function detail(error: ServerConnection.ResponseError): string {
    const message = error.message;
    if (
      !message ||
      message.length > 200 ||
      /^\s*</.test(message) ||
      message.startsWith('Invalid response:')
    ) {
      return '';
    }
    return `: ${message}`;
  }
}
