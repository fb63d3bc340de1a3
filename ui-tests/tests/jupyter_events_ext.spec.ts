import { expect, test } from '@jupyterlab/galata';

import { SCHEMA } from './sink';

test('the plugins activate and the client lists the UI-action schemas', async ({
  page
}) => {
  for (const id of [
    'jupyter-events-ext:plugin',
    'jupyter-events-ext:capture',
    'jupyter-events-ext:viewer'
  ]) {
    expect(
      await page.evaluate(id => window.jupyterapp.isPluginActivated(id), id)
    ).toBe(true);
  }

  const schemas = await page.evaluate(async () => {
    const client = await (window as any).galata.getPlugin(
      'jupyter-events-ext:plugin'
    );
    return (await client.listSchemas()).map((schema: any) => ({
      id: schema.id,
      client: schema.client
    }));
  });
  for (const id of Object.values(SCHEMA)) {
    expect(schemas).toContainEqual({ id, client: true });
  }
});
