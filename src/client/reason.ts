import { ServerConnection } from '@jupyterlab/services';
import {
  type ITranslator,
  nullTranslator,
  type TranslationBundle
} from '@jupyterlab/translation';

import type { IEventsClient } from '../tokens';

/**
 * Why a request to the server extension failed, as the client's state and
 * the Event Viewer say it: each status means one thing.
 *
 * @param trans - the bundle the message is said in; by default the
 *   translator the client plugin set in `Reasons.translator`
 */
export function reasonOf(
  error: unknown,
  trans: TranslationBundle = Reasons.translator.load('jupyter_events_ext')
): IEventsClient.IReason {
  if (!(error instanceof ServerConnection.ResponseError)) {
    return {
      kind: 'unreachable',
      status: null,
      message: trans.__('The server cannot be reached; retrying.')
    };
  }
  const status = error.response.status;
  const detail = Private.detail(error);
  if (status === 401 || status === 403) {
    return {
      kind: 'not-authorized',
      status,
      message: detail
        ? trans.__('Not authorized to record events (%1: %2).', status, detail)
        : trans.__('Not authorized to record events (%1).', status)
    };
  }
  if (status === 404) {
    // The body is jupyter_server's HTML page: nothing worth quoting.
    return {
      kind: 'not-installed',
      status,
      message: trans.__(
        'The jupyter_events_ext server extension is not installed or not enabled on this server (404).'
      )
    };
  }
  return {
    kind: 'server-error',
    status,
    message: detail
      ? trans.__('The server failed (%1: %2); retrying.', status, detail)
      : trans.__('The server failed (%1); retrying.', status)
  };
}

/**
 * Where reasons get their language.
 */
export namespace Reasons {
  /**
   * The translator `reasonOf` says reasons with when given no bundle. The
   * client plugin sets the application's, as JupyterLab sets
   * `Dialog.translator`: the client and its stream need no translator of
   * their own.
   */
  // eslint-disable-next-line prefer-const
  export let translator: ITranslator = nullTranslator;
}

namespace Private {
  /**
   * The server's own message, when it sent a short one; '' otherwise.
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
    return message;
  }
}
