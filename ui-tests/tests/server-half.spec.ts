import { expect, test } from '@jupyterlab/galata';

import { clientState } from './client';
import { JupyterServer } from './server';

const cases = [
  {
    name: 'not installed (404)',
    config: 'missing_server_config.py',
    reason:
      'The jupyter_events_ext server extension is not installed or not enabled on this server (404).',
    kind: 'not-installed'
  },
  {
    name: 'forbidden (403)',
    config: 'forbidden_server_config.py',
    reason: /Not authorized to record events \(403: User is not authorized/,
    kind: 'not-authorized'
  }
];

for (const { name, config, reason, kind } of cases) {
  test.describe(`the server half ${name}`, () => {
    test.setTimeout(180 * 1000);
    const server = JupyterServer.forTests({ config });

    test('the page works as usual and the Event Viewer says why nothing is recorded', async ({
      page,
      waitForApplication
    }) => {
      const errors: string[] = [];
      const lab = await server().openLab(page, waitForApplication);
      lab.on('pageerror', error => errors.push(String(error)));

      await lab.notebook.createNew('works.ipynb');
      await lab.notebook.setCell(0, 'code', '6 * 7');
      await lab.notebook.run();
      expect(await lab.notebook.getCellTextOutput(0)).toEqual(['42']);
      await lab.notebook.save();
      await expect(lab.locator('.jp-Dialog')).toHaveCount(0);

      await lab.evaluate(() =>
        window.jupyterapp.commands.execute('jupyter-events-ext:open-viewer')
      );
      const viewer = lab.locator('.jp-EventViewer');
      const connection = viewer.locator('.jp-EventViewer-connection');
      await expect(connection).toHaveText(reason, { timeout: 30000 });
      await expect(connection).toHaveAttribute('data-state', kind);
      const delivery = viewer.locator('.jp-EventViewer-delivery');
      await expect(delivery).toHaveAttribute('data-state', kind, {
        timeout: 30000
      });
      await expect(delivery).toContainText(reason);
      const state = await clientState(lab);
      expect(state.connected).toBe(false);
      expect(state.reason?.kind).toBe(kind);
      expect(state.waiting).toBeGreaterThan(0);
      expect(errors).toEqual([]);
      await lab.close();
    });
  });
}
