import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/**
 * The URL namespace of the server extension's REST API.
 */
export const API_NAMESPACE = 'jupyter-events-ext';

/**
 * Call the server extension's REST API.
 *
 * @param endPoint - the route under `{baseUrl}jupyter-events-ext/`
 * @param init - the fetch options
 * @param settings - the server connection settings
 * @returns the parsed JSON body, or `undefined` for an empty body
 * @throws `ServerConnection.NetworkError` when the server cannot be reached,
 *   `ServerConnection.ResponseError` (carrying the server's message) for an error status
 */
export async function requestAPI<T>(
  endPoint = '',
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, API_NAMESPACE, endPoint);

  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }

  const text = await response.text();
  let body: any = undefined;
  if (text.length > 0) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }

  if (!response.ok) {
    const message = body && typeof body === 'object' ? body.message : body;
    throw new ServerConnection.ResponseError(response, message);
  }
  return body as T;
}

/**
 * The URL of one of the server extension's sockets: the query's parameters
 * (each already encoded), then the token when the settings append it, since a
 * browser's WebSocket cannot carry an `Authorization` header.
 *
 * @param endPoint - the route under `{wsUrl}jupyter-events-ext/`
 * @param query - `name=value` pairs, each encoded
 * @param settings - the server connection settings
 */
export function socketURL(
  endPoint: string,
  query: ReadonlyArray<string>,
  settings: ServerConnection.ISettings
): string {
  const { appendToken, token, wsUrl } = settings;
  const parameters =
    appendToken && token !== ''
      ? [...query, `token=${encodeURIComponent(token)}`]
      : query;
  const url = URLExt.join(wsUrl, API_NAMESPACE, endPoint);
  return parameters.length ? `${url}?${parameters.join('&')}` : url;
}
