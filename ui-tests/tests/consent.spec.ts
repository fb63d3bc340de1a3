import * as path from 'path';

import { expect, galata, test } from '@jupyterlab/galata';
import type { Page } from '@playwright/test';

import { EVENTS_ROUTE, EventsSocketRoute, flush } from './client';
import { JupyterServer } from './server';
import { IEnvelope, SCHEMA, Sink } from './sink';

const PLUGIN = 'jupyter-events-ext:plugin';
const CONSENT = 'https://events.jupyter.org/jupyter_events_ext/consent/v1';
const TEST_COMMAND = 'galata-consent:run';
/**
 * Settings as a user would have saved them for the Events page.
 */
function userSettings(values: Record<string, unknown>) {
  return { ...galata.DEFAULT_SETTINGS, [PLUGIN]: values };
}

/**
 * Run a command of the test's own, which capture records like any other.
 */
function runTestCommand(page: Page) {
  return page.evaluate(async id => {
    const commands = window.jupyterapp.commands;
    if (!commands.hasCommand(id)) {
      commands.addCommand(id, { execute: () => undefined });
    }
    await commands.execute(id);
  }, TEST_COMMAND);
}

/**
 * What this browser recorded: the events of this package's schemas (the
 * sink also holds jupyter_server's own, forwarded).
 */
function browserEvents(sink: Sink): IEnvelope[] {
  return sink
    .events()
    .filter(e =>
      e.__schema__.startsWith('https://events.jupyter.org/jupyter_events_ext/')
    );
}

/**
 * The runs of the test's own command that the server recorded.
 */
function testCommandRuns(sink: Sink): IEnvelope[] {
  return sink.events(SCHEMA.command).filter(e => e.command_id === TEST_COMMAND);
}

function toast(page: Page) {
  return page.locator('.Toastify__toast');
}

function statusItem(page: Page) {
  return page.locator('.jp-EventsStatus');
}

test.describe('the notice (the default consent mode)', () => {
  test('says on first run what is recorded and where, and not again once seen', async ({
    page
  }) => {
    await expect(toast(page)).toHaveCount(1);
    await expect(toast(page)).toContainText(
      'JupyterLab records your actions here (commands, documents, cell runs, kernels, active document and 4 more) as events on this Jupyter server.'
    );
    await expect(statusItem(page)).toHaveText(
      /^Recording · \d+ waiting · connected$/
    );

    await toast(page).getByRole('button', { name: 'Details' }).click();
    await expect(page.locator('.jp-EventViewer')).toBeVisible();
    await expect(toast(page)).toHaveCount(0);

    await page.reload({ waitForIsReady: false });
    await page.waitForSelector('#jupyterlab-splash', { state: 'detached' });
    await expect(statusItem(page)).toBeVisible();
    // Give a notice every chance to appear: it must not.
    await page.waitForTimeout(2000);
    await expect(toast(page)).toHaveCount(0);
  });

  test('opens the Settings Editor on the Events settings', async ({ page }) => {
    await toast(page).getByRole('button', { name: 'Settings' }).click();
    // The Events settings, and only those, listed and shown.
    await expect(page.locator('.jp-PluginList').getByRole('tab')).toHaveText([
      'Events'
    ]);
    await expect(
      page.locator('.jp-SettingsPanel').getByRole('heading', {
        name: 'Events',
        exact: true,
        level: 2
      })
    ).toBeVisible();
  });

  test('screenshot for the docs', async ({ page }) => {
    await page.setViewportSize({ width: 1280, height: 760 });
    await expect(toast(page)).toHaveCount(1);
    await page.notebook.createNew('analysis.ipynb');
    await page.notebook.setCell(0, 'code', 'import math\nmath.pi');
    await page.evaluate(() =>
      window.jupyterapp.commands.execute('application:toggle-left-area')
    );
    await expect(toast(page)).toHaveCount(1);
    await expect(statusItem(page)).toHaveText(/connected$/);
    // Let the toast finish sliding in.
    await page.waitForTimeout(1000);
    await page.screenshot({
      path: path.resolve(__dirname, '../../docs/notice.png')
    });
  });
});

test.describe('the opt-in consent mode', () => {
  test.use({
    autoGoto: false,
    mockSettings: userSettings({ consent: 'opt-in' })
  });

  test('captures nothing before the user agrees, then records the decision and the actions', async ({
    page
  }) => {
    const sink = new Sink();
    await page.goto();

    const question = toast(page);
    await expect(question).toContainText(
      'Nothing is recorded unless you agree.'
    );
    await expect(statusItem(page)).toHaveText(
      /^Not recording \(no consent yet\) · /
    );
    // A command, a notebook (document, kernel, focus) and a cell run: none recorded.
    await runTestCommand(page);
    await page.notebook.createNew('before.ipynb');
    await page.notebook.setCell(0, 'code', '1 + 1');
    await page.notebook.run();
    await page.notebook.save();
    await flush(page);
    await page.waitForTimeout(2000);
    expect(browserEvents(sink)).toEqual([]);

    await question.getByRole('button', { name: 'Agree' }).click();
    await expect(question).toHaveCount(0);
    await expect(statusItem(page)).toHaveText(/^Recording \(you agreed\) · /);
    await runTestCommand(page);
    await flush(page);

    await expect
      .poll(() => sink.events(CONSENT).map(e => e.decision), {
        timeout: 20000
      })
      .toEqual(['agreed']);
    await expect
      .poll(() => testCommandRuns(sink).length, { timeout: 20000 })
      .toBe(1);

    // Remembered: after a reload, nothing is asked and capture goes on.
    await page.reload({ waitForIsReady: false });
    await page.waitForSelector('#jupyterlab-splash', { state: 'detached' });
    await expect(statusItem(page)).toHaveText(/^Recording \(you agreed\) · /);
    await page.waitForTimeout(2000);
    await expect(toast(page)).toHaveCount(0);
  });

  test('the Event Viewer says, before the answer, that nothing is recorded', async ({
    page
  }) => {
    const sink = new Sink();
    await page.goto();
    await expect(toast(page)).toContainText(
      'Nothing is recorded unless you agree.'
    );

    // Details: what agreeing would start, as the Viewer says it.
    await toast(page).getByRole('button', { name: 'Details' }).click();
    const records = page.locator('.jp-EventViewer-settings');
    const capture = records.locator('[data-setting="capture"]');
    await expect(capture).toHaveAttribute('data-on', 'false');
    await expect(capture.locator('> .jp-EventViewer-settingText')).toHaveText(
      'Your actions are not captured until you agree.'
    );
    await expect(capture.locator('.jp-EventViewer-ifAgreed')).toHaveText(
      'If you agree, these are captured:'
    );
    await expect(records.locator('[data-setting="commands"]')).toHaveText(
      'commands you run (their ids): on'
    );
    // The status bar says the same, and so does what is sent: nothing.
    await expect(statusItem(page)).toHaveText(
      /^Not recording \(no consent yet\) · /
    );
    // Sent means recorded: whatever was captured is in the sink by now.
    await runTestCommand(page);
    await flush(page);
    expect(browserEvents(sink)).toEqual([]);
  });

  test('records a decline and captures nothing; the user can change their mind', async ({
    page
  }) => {
    const sink = new Sink();
    await page.goto();

    await toast(page).getByRole('button', { name: 'Decline' }).click();
    // Gone, not fading out: the question asked again below is then the only one.
    await expect(toast(page)).toHaveCount(0);
    await expect(statusItem(page)).toHaveText(/^Not recording \(declined\) · /);
    await runTestCommand(page);
    await flush(page);
    await expect
      .poll(() => sink.events(CONSENT).map(e => e.decision), {
        timeout: 20000
      })
      .toEqual(['declined']);
    expect(sink.events(SCHEMA.command)).toEqual([]);

    // Later, from the command palette.
    await page.evaluate(() =>
      window.jupyterapp.commands.execute('apputils:activate-command-palette')
    );
    await page.keyboard.type('Consent to Recording');
    await page.keyboard.press('Enter');
    await toast(page).getByRole('button', { name: 'Agree' }).click();
    await expect(statusItem(page)).toHaveText(/^Recording \(you agreed\) · /);
    await runTestCommand(page);
    await flush(page);

    await expect
      .poll(() => sink.events(CONSENT).map(e => [e.decision, e.previous]), {
        timeout: 20000
      })
      .toEqual([
        ['declined', undefined],
        ['agreed', 'declined']
      ]);
    await expect
      .poll(() => testCommandRuns(sink).length, { timeout: 20000 })
      .toBe(1);
  });
});

test.describe('no notice (consent "none")', () => {
  test.use({ mockSettings: userSettings({ consent: 'none' }) });

  test('says nothing and captures', async ({ page }) => {
    const sink = new Sink();
    await page.waitForTimeout(2000);
    await expect(toast(page)).toHaveCount(0);
    await runTestCommand(page);
    await flush(page);
    await expect
      .poll(() => testCommandRuns(sink).length, { timeout: 20000 })
      .toBe(1);
  });
});

test.describe('the status-bar item', () => {
  test.use({ mockSettings: userSettings({ consent: 'none' }) });

  test('shows what waits while the server refuses events, and opens the Event Viewer', async ({
    page
  }) => {
    // The page takes the routed WebSocket class when it loads.
    const socket = await EventsSocketRoute.install(page);
    await page.reload();
    const item = statusItem(page);
    await expect(item).toHaveText(/^Recording · 0 waiting · connected$/);

    // Busy, on the events socket and by POST alike.
    await socket.set({
      answer: () => JSON.stringify({ status: 503, message: 'Busy' })
    });
    await page.route(EVENTS_ROUTE, route =>
      route.request().method() === 'POST'
        ? route.fulfill({ status: 503, body: '{"message": "Busy"}' })
        : route.continue()
    );
    await runTestCommand(page);
    await runTestCommand(page);
    await flush(page).catch(() => undefined);
    await expect(item).toHaveText(
      /^Recording · [1-9]\d* waiting · server error$/,
      {
        timeout: 20000
      }
    );
    await expect(item).toHaveAttribute('title', /The server failed \(503/);
    expect(socket.messages.length).toBeGreaterThan(0);

    await page.unroute(EVENTS_ROUTE);
    await socket.set('pass');
    await flush(page);
    await expect(item).toHaveText(/^Recording · 0 waiting · connected$/, {
      timeout: 20000
    });

    await item.click();
    await expect(page.locator('.jp-EventViewer')).toBeVisible();
  });
});

test.describe('a setting the operator locks', () => {
  test.setTimeout(180 * 1000);
  const server = JupyterServer.forTests({
    sink: true,
    overrides: {
      [PLUGIN]: {
        commands: false,
        consent: 'none',
        locked: ['commands', 'consent']
      }
    }
  });

  test('shows locked in the Settings Editor, and a user cannot override it there', async ({
    page,
    waitForApplication
  }) => {
    const lab = await server().openLab(
      page,
      waitForApplication,
      // The user turned command capture on, and the notice off: neither counts.
      userSettings({ commands: true, consent: 'opt-in' })
    );
    const sink = server().sink();

    await lab.evaluate(() =>
      window.jupyterapp.commands.execute('settingeditor:open', {
        query: 'Events'
      })
    );
    await lab
      .locator('.jp-PluginList')
      .getByRole('tab', { name: 'Events', exact: true })
      .click();
    const editor = lab.locator('.jp-SettingsPanel');
    const field = (key: string) =>
      editor.locator(`[id="jp-SettingsEditor-${PLUGIN}_${key}"]`);

    // The operator's values, disabled, and saying why.
    await expect(field('commands')).toBeDisabled();
    await expect(field('commands')).not.toBeChecked();
    await expect(field('consent')).toBeDisabled();
    await expect(field('consent')).toHaveValue(/none|2/);
    await expect(field('commands__description')).toHaveText(
      /^Locked by the operator: .*Record each command executed/
    );
    // Settings not locked stay editable; the list of locks never is.
    await expect(field('documents')).toBeEnabled();
    await expect(field('locked')).toBeDisabled();

    // No notice ("none" is locked over the user's "opt-in").
    await expect(lab.locator('.Toastify__toast')).toHaveCount(0);

    // A click does nothing; a value set through the registry is kept but not used.
    await field('commands').click({ force: true });
    await expect(field('commands')).not.toBeChecked();
    const composite = await lab.evaluate(async plugin => {
      const registry = await (window as any).galata.getPlugin(
        '@jupyterlab/apputils-extension:settings'
      );
      await registry.set(plugin, 'commands', true);
      return (await registry.get(plugin, 'commands')).composite;
    }, PLUGIN);
    expect(composite).toBe(false);
    await expect(field('commands')).not.toBeChecked();

    await runTestCommand(lab);
    await flush(lab);
    await lab.waitForTimeout(2000);
    expect(testCommandRuns(sink)).toEqual([]);
    await lab.close();
  });
});
