import { createServer, IncomingMessage, Server, ServerResponse } from 'http';
import { AddressInfo } from 'net';

import { ServerConnection } from '@jupyterlab/services';

import { requestAPI, socketURL } from '../client/request';

// A real HTTP server on loopback stands in for Jupyter Server's routes.
function serve(
  handler: (req: IncomingMessage, res: ServerResponse) => void
): Promise<{ server: Server; baseUrl: string }> {
  return new Promise(resolve => {
    const server = createServer(handler);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, baseUrl: `http://127.0.0.1:${port}/a%40b/` });
    });
  });
}

function settingsFor(baseUrl: string): ServerConnection.ISettings {
  return ServerConnection.makeSettings({
    baseUrl,
    token: 'secret'
  });
}

describe('requestAPI', () => {
  let server: Server;
  let baseUrl: string;
  const seen: { url?: string; authorization?: string } = {};

  beforeAll(async () => {
    ({ server, baseUrl } = await serve((req, res) => {
      // JupyterLab may add a cache-busting query string to GET requests.
      const path = new URL(req.url ?? '', 'http://localhost').pathname;
      seen.url = path;
      seen.authorization = req.headers.authorization;
      if (path.endsWith('/schemas')) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ schemas: [] }));
      } else if (path.endsWith('/empty')) {
        res.writeHead(204);
        res.end();
      } else {
        res.writeHead(400, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ message: 'Unknown schema "x".' }));
      }
    }));
  });

  afterAll(done => {
    server.close(() => done());
  });

  it('joins the route to the base URL, sends the token and parses JSON', async () => {
    const body = await requestAPI<{ schemas: unknown[] }>(
      'schemas',
      {},
      settingsFor(baseUrl)
    );

    expect(body).toEqual({ schemas: [] });
    expect(seen.url).toBe('/a%40b/jupyter-events-ext/schemas');
    expect(seen.authorization).toBe('token secret');
  });

  it('returns undefined for an empty body', async () => {
    await expect(
      requestAPI('empty', { method: 'POST' }, settingsFor(baseUrl))
    ).resolves.toBeUndefined();
  });

  it("throws a ResponseError carrying the server's message", async () => {
    const request = requestAPI(
      'events',
      { method: 'POST' },
      settingsFor(baseUrl)
    );

    await expect(request).rejects.toBeInstanceOf(
      ServerConnection.ResponseError
    );
    await expect(request).rejects.toMatchObject({
      message: 'Unknown schema "x".',
      response: { status: 400 }
    });
  });

  it('throws a NetworkError when nothing listens', async () => {
    const closed = await serve(() => undefined);
    await new Promise(resolve => closed.server.close(resolve));

    await expect(
      requestAPI('schemas', {}, settingsFor(closed.baseUrl))
    ).rejects.toBeInstanceOf(ServerConnection.NetworkError);
  });
});

describe('socketURL', () => {
  const wsUrl = 'ws://127.0.0.1:8888/a%40b/';

  it('puts the token after the query when the settings append it', () => {
    const settings = ServerConnection.makeSettings({
      wsUrl,
      token: 'a&b',
      appendToken: true
    });
    expect(socketURL('stream', ['after=3'], settings)).toBe(
      'ws://127.0.0.1:8888/a%40b/jupyter-events-ext/stream?after=3&token=a%26b'
    );
    expect(socketURL('events/socket', [], settings)).toBe(
      'ws://127.0.0.1:8888/a%40b/jupyter-events-ext/events/socket?token=a%26b'
    );
  });

  it('leaves the token out when the settings do not append it, or have none', () => {
    for (const options of [
      { token: 'secret', appendToken: false },
      { token: '', appendToken: true }
    ]) {
      const settings = ServerConnection.makeSettings({ wsUrl, ...options });
      expect(socketURL('events/socket', [], settings)).toBe(
        'ws://127.0.0.1:8888/a%40b/jupyter-events-ext/events/socket'
      );
    }
  });
});
