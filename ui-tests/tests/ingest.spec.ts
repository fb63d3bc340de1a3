import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';

import {
  batchIds,
  clientState,
  emitCellRuns,
  EVENTS_SOCKET_ROUTE,
  EventsSocketRoute,
  flush
} from './client';
import { SCHEMA, Sink } from './sink';

const EVENTS_POST = /\/jupyter-events-ext\/events(\?|$)/;

/**
 * The bodies of the `POST events` requests the page makes from now on.
 */
function watchPosts(page: IJupyterLabPageFixture): string[] {
  const posts: string[] = [];
  page.on('request', request => {
    if (request.method() === 'POST' && EVENTS_POST.test(request.url())) {
      posts.push(request.postData() ?? '');
    }
  });
  return posts;
}

/**
 * Emit a cell-execution event for each of `cells` in the page, send them,
 * and check that the server recorded each exactly once; return their ids.
 */
async function recordedOnce(
  page: IJupyterLabPageFixture,
  cells: string[]
): Promise<string[]> {
  const sink = new Sink();
  const recorded = () =>
    sink
      .events(SCHEMA.cellExecution)
      .filter(event => cells.includes(event.cell_id));
  await emitCellRuns(page, cells);
  await flush(page);
  await expect
    .poll(() => recorded().length, { timeout: 20000 })
    .toBe(cells.length);
  await page.waitForTimeout(1000); // time for a copy to arrive, were one sent
  const events = recorded();
  expect(events.map(event => event.cell_id).sort()).toEqual(cells);
  const ids = events.map(event => event.__id__!);
  expect(new Set(ids).size).toBe(cells.length);
  return ids;
}

test.describe('how events reach the server', () => {
  test('events emitted in the page go over the events socket and are recorded once each', async ({
    page
  }) => {
    // What each events socket sent and heard, socket by socket.
    const sockets: { frames: string[]; answers: string[] }[] = [];
    page.on('websocket', ws => {
      if (EVENTS_SOCKET_ROUTE.test(ws.url())) {
        const socket = { frames: [] as string[], answers: [] as string[] };
        sockets.push(socket);
        ws.on('framesent', frame =>
          socket.frames.push(frame.payload.toString())
        );
        ws.on('framereceived', frame =>
          socket.answers.push(frame.payload.toString())
        );
      }
    });
    // A page of its own, whose socket opens in sight.
    await page.reload();
    const posts = watchPosts(page);

    const ids = await recordedOnce(page, ['socket-1', 'socket-2', 'socket-3']);
    // The sockets that carried these events. The page before the reload may
    // have had a batch of its own on its socket when it went: that one is
    // never answered, and the new page sends those events again.
    const carriers = sockets.filter(socket =>
      socket.frames.some(frame => batchIds(frame).some(id => ids.includes(id)))
    );
    const sent = carriers.flatMap(socket => socket.frames.flatMap(batchIds));
    for (const id of ids) {
      expect(sent).toContain(id);
    }
    // Each of their batches is answered (one is in flight at a time: the
    // page's own capture may have one on its way).
    await expect
      .poll(() =>
        carriers.every(socket => socket.answers.length === socket.frames.length)
      )
      .toBe(true);
    for (const socket of carriers) {
      expect(
        JSON.parse(socket.answers[socket.answers.length - 1])
      ).toMatchObject({ status: 200 });
    }
    expect(posts).toEqual([]);
    expect(await clientState(page)).toMatchObject({
      connected: true,
      waiting: 0
    });
  });

  test('with the events socket refused, events go by POST and are recorded once each', async ({
    page
  }) => {
    const route = await EventsSocketRoute.install(page);
    await route.set('refuse');
    await page.reload();
    const posts = watchPosts(page);

    const ids = await recordedOnce(page, ['post-1', 'post-2', 'post-3']);
    const posted = posts.flatMap(body => batchIds(body));
    for (const id of ids) {
      expect(posted).toContain(id);
    }
    expect(route.refused).toBeGreaterThan(0);
    expect(route.opened).toBe(0);
    expect(route.messages).toEqual([]);
    expect(await clientState(page)).toMatchObject({
      connected: true,
      waiting: 0
    });
  });
});
