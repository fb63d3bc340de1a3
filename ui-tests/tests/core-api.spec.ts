import { execFileSync } from 'child_process';
import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';

import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';

import { clientState } from './client';
import { JupyterServer } from './server';
import type { Sink } from './sink';

/**
 * The schema of core-api-extension (ui-tests/core-api-extension), a test
 * extension that records events through JupyterLab's own event API only.
 */
const CLICK = 'https://example.org/core-api-extension/click/v1';
const CONTENTS =
  'https://events.jupyter.org/jupyter_server/contents_service/v1';

/**
 * Emit a click event for each label through the test extension
 * (`app.serviceManager.events.emit`), and say how each promise settled.
 */
function emitClicks(
  lab: IJupyterLabPageFixture,
  labels: string[]
): Promise<string[]> {
  return lab.evaluate(
    ([schema, all]) =>
      (window as any).coreApiExtension.emit(
        all.map(label => ({ schema_id: schema, version: '1', data: { label } }))
      ),
    [CLICK, labels] as const
  );
}

/**
 * The labels of the click events the sink holds, sorted.
 */
function clicks(sink: Sink): string[] {
  return sink
    .events(CLICK)
    .map(event => event.label as string)
    .sort();
}

/**
 * What every extension that emits through JupyterLab's API should get:
 * events emitted online, while the browser is offline, and after a reload
 * each reach the sink exactly once.
 */
async function deliveredOnceAcrossOfflineAndReload(
  lab: IJupyterLabPageFixture,
  sink: Sink
): Promise<void> {
  expect(await emitClicks(lab, ['online'])).toEqual(['fulfilled']);
  await expect.poll(() => clicks(sink), { timeout: 20000 }).toEqual(['online']);

  await lab.context().setOffline(true);
  await emitClicks(lab, ['offline-1', 'offline-2']);
  await lab.context().setOffline(false);
  await lab.reload();
  expect(await emitClicks(lab, ['reloaded'])).toEqual(['fulfilled']);

  const all = ['offline-1', 'offline-2', 'online', 'reloaded'];
  await expect.poll(() => clicks(sink), { timeout: 30000 }).toEqual(all);
  await lab.waitForTimeout(2000); // time for a copy to arrive, were one sent
  expect(clicks(sink)).toEqual(all);
}

test.describe('an extension that records through JupyterLab’s own event API', () => {
  test.setTimeout(180 * 1000);
  const server = JupyterServer.forTests({
    config: 'core_api_config.py',
    sink: true
  });

  test('gets exactly-once delivery across an offline period and a reload', async ({
    page,
    waitForApplication
  }) => {
    const lab = await server().openLab(page, waitForApplication);
    const sink = server().sink();
    await deliveredOnceAcrossOfflineAndReload(lab, sink);
    // Through this extension's client: each with its client id, counted.
    expect(sink.events(CLICK).every(event => event.__id__)).toBe(true);
    await expect
      .poll(async () => ((await clientState(lab)) as any).eventManager)
      .toEqual({ queued: 1, posted: 0 });
    await lab.close();
  });

  test('receives jupyter_server’s events on stream, as JupyterLab’s own stream gives them', async ({
    page,
    waitForApplication
  }) => {
    const lab = await server().openLab(page, waitForApplication);
    // JupyterLab's own stream, to compare with: jupyter_server's socket.
    await lab.evaluate(
      () =>
        new Promise<void>((resolve, reject) => {
          const { wsUrl } = (window as any).jupyterapp.serviceManager
            .serverSettings;
          const socket = new WebSocket(`${wsUrl}api/events/subscribe`);
          const messages: unknown[] = ((window as any).coreStream = []);
          socket.onmessage = message => messages.push(JSON.parse(message.data));
          socket.onopen = () => resolve();
          socket.onerror = () => reject(new Error('no socket'));
        })
    );
    // A server event: jupyter_server's contents service renames a file.
    const renamed = await lab.evaluate(async () => {
      const { contents } = (window as any).jupyterapp.serviceManager;
      const model = await contents.newUntitled({ type: 'file', ext: '.txt' });
      await contents.rename(model.path, `renamed-${model.path}`);
      return model.path as string;
    });
    const renames = (source: string) =>
      lab.evaluate(
        ([name, schema, path]) =>
          ((window as any)[name] ?? (window as any).coreApiExtension.received)
            .filter(
              (emission: any) =>
                emission.schema_id === schema &&
                emission.action === 'rename' &&
                emission.source_path === path
            )
            .map((emission: any) => JSON.stringify(emission)),
        [source, CONTENTS, renamed] as const
      );
    await expect
      .poll(() => renames('coreStream'), { timeout: 20000 })
      .toHaveLength(1);
    await expect
      .poll(() => renames('extension'), { timeout: 20000 })
      .toHaveLength(1);
    // Field for field, in the same order.
    expect(await renames('extension')).toEqual(await renames('coreStream'));
    await lab.close();
  });
});

test.describe('the same extension with JupyterLab alone (this extension’s IEventManager disabled)', () => {
  test.setTimeout(180 * 1000);
  // Disabled as a user would, in a configuration directory of this server's.
  const configDir = mkdtempSync(path.join(tmpdir(), 'jupyter-config-'));
  test.beforeAll(() => {
    execFileSync(
      'jupyter',
      [
        'labextension',
        'disable',
        '--level=user',
        'jupyter-events-ext:event-manager'
      ],
      { env: { ...process.env, JUPYTER_CONFIG_DIR: configDir } }
    );
  });
  const server = JupyterServer.forTests({
    config: 'core_api_unserved_config.py',
    sink: true,
    env: { JUPYTER_CONFIG_DIR: configDir }
  });

  test('its events go to /api/events and are recorded while the browser is online', async ({
    page,
    waitForApplication
  }) => {
    const lab = await server().openLab(page, waitForApplication);
    const sink = server().sink();
    expect(await emitClicks(lab, ['online'])).toEqual(['fulfilled']);
    await expect
      .poll(() => clicks(sink), { timeout: 20000 })
      .toEqual(['online']);
    // Posted by JupyterLab's own manager: no client id, marked as posted there.
    const [event] = sink.events(CLICK);
    expect(event.__id__).toBeUndefined();
    expect(event.__client_posted__).toBe(true);
    await lab.close();
  });

  test('loses what is emitted while offline: the test above fails', async ({
    page,
    waitForApplication
  }) => {
    // JupyterLab's manager posts each event once, offline too: offline-1 and
    // offline-2 never reach the sink (online and reloaded do, as above).
    test.fail();
    const lab = await server().openLab(page, waitForApplication);
    try {
      await deliveredOnceAcrossOfflineAndReload(lab, server().sink());
    } finally {
      await lab.close();
    }
  });
});
