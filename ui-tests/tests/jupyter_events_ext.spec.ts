import { expect, test } from '@jupyterlab/galata';

test('the plugin activates and reaches its server extension', async ({
  page
}) => {
  const logs: string[] = [];
  page.on('console', message => logs.push(message.text()));

  await page.reload();

  expect(
    await page.evaluate(() =>
      window.jupyterapp.isPluginActivated('jupyter-events-ext:plugin')
    )
  ).toBe(true);
  await expect
    .poll(() => logs.find(line => line.includes('jupyter-events-ext')))
    .toMatch(/jupyter-events-ext is activated: \d+ event schemas registered\./);
});
