#!/usr/bin/env node
/**
 * A person at a browser on the hub, driven by tests/hub/browser.py: Debian's
 * Chromium through Playwright, as the Galata tests use it.
 *
 * It reads one command per line on stdin, a JSON object, does it and answers
 * one JSON line on stdout: {"ok": true, ...} or {"ok": false, "error": ...}.
 *
 *   {"do": "login", "hub": URL, "user": NAME, "password": P}   log in through the
 *       hub's login page and wait for JupyterLab on the user's server
 *   {"do": "notebook"}           open a new Python notebook from the Launcher
 *   {"do": "run", "cells": N}    type N cells and run each (Shift+Enter)
 *   {"do": "toggle-sidebar", "times": N}   press Ctrl+B N times: a command event
 *       each, which needs no kernel
 *   {"do": "withhold-answer"}    the next answer on the events socket never reaches
 *       the page, as when a server stops between recording a batch and answering:
 *       the socket stays open until the server closes it
 *   {"do": "reload"}             reload the page, and wait for JupyterLab again
 *   {"do": "status"}             the status bar's events item: its text and title
 *   {"do": "drain"}              wait until the page has nothing waiting to send
 *   {"do": "report"}             what the page sent and which events were answered
 *   {"do": "quit"}
 *
 * The page's events sockets are routed through this script (routeWebSocket,
 * passed on to the server unchanged), which keeps each message and its answer;
 * its POSTs to jupyter-events-ext/events are watched as well.
 */
const path = require('path');
const readline = require('readline');
const { chromium } = require('playwright-core');

const { chromiumLaunchOptions } = require(
  path.join(__dirname, '..', '..', 'ui-tests', 'chromium')
);

const EVENTS_SOCKET = /\/jupyter-events-ext\/events\/socket(\?|$)/;
const EVENTS_POST = /\/jupyter-events-ext\/events(\?|$)/;
const LAB_READY = '#jp-main-statusbar .jp-EventsStatus-text';
const TIMEOUT = 60000;

/** What the page sent and what it was told. */
const record = {
  sent: {}, // client id -> how many times it was sent (socket messages and POSTs)
  acknowledged: {}, // client id -> true once a 2xx answer accounted for it
  rejected: [], // messages the server refused an event with
  messages: 0,
  answersWithheld: 0,
  withheld: [], // the client ids of the batches whose answers were withheld
  posts: 0,
  sockets: 0
};
let withholdNextAnswer = false;

function ids(body) {
  const batch = JSON.parse(body);
  return (batch.events ?? [batch]).map(event => event.id);
}

function sent(body) {
  for (const id of ids(body)) {
    record.sent[id] = (record.sent[id] ?? 0) + 1;
  }
}

/** Note an answer to `body`: `status` and, for a batch, its account. */
function answered(body, status, reply) {
  if (status < 200 || status >= 300) {
    return;
  }
  const batchIds = ids(body);
  const refused = new Set((reply?.rejected ?? []).map(entry => entry.index));
  for (const entry of reply?.rejected ?? []) {
    record.rejected.push(entry.message);
  }
  batchIds.forEach((id, index) => {
    if (!refused.has(index)) {
      record.acknowledged[id] = true;
    }
  });
}

async function routeEventsSockets(context) {
  await context.routeWebSocket(EVENTS_SOCKET, ws => {
    record.sockets++;
    const server = ws.connectToServer();
    const waiting = [];
    ws.onMessage(data => {
      const body = data.toString();
      record.messages++;
      sent(body);
      waiting.push(body);
      server.send(data);
    });
    server.onMessage(data => {
      const body = waiting.shift();
      if (withholdNextAnswer) {
        // The server recorded the batch; the page never learns it.
        withholdNextAnswer = false;
        record.answersWithheld++;
        record.withheld.push(...ids(body));
        return;
      }
      const answer = JSON.parse(data.toString());
      answered(body, answer.status, answer);
      ws.send(data);
    });
    server.onClose((code, reason) => void ws.close({ code, reason }));
    ws.onClose(() => void server.close());
  });
  const isEventsPost = request =>
    request.method() === 'POST' && EVENTS_POST.test(request.url());
  context.on('request', request => {
    if (isEventsPost(request)) {
      record.posts++;
      sent(request.postData());
    }
  });
  context.on('requestfinished', async request => {
    const response = isEventsPost(request) ? await request.response() : null;
    if (response && response.ok()) {
      const text = await response.text().catch(() => '');
      answered(
        request.postData(),
        response.status(),
        text ? JSON.parse(text) : null
      );
    }
  });
}

async function waitForLab(page) {
  await page.waitForSelector(LAB_READY, { timeout: TIMEOUT });
  await page.waitForSelector('.jp-LauncherCard, .jp-NotebookPanel', {
    timeout: TIMEOUT
  });
}

async function statusText(page) {
  return (await page.locator(LAB_READY).textContent()) ?? '';
}

const commands = {
  async login(state, { hub, user, password }) {
    await state.page.goto(`${hub}/hub/login`);
    await state.page.fill('#username_input', user);
    await state.page.fill('#password_input', password);
    await state.page.click('#login_submit');
    await state.page.waitForURL(new RegExp(`/user/${user}/lab`), {
      timeout: TIMEOUT
    });
    await waitForLab(state.page);
    return { url: state.page.url(), status: await statusText(state.page) };
  },

  async notebook(state) {
    const { page } = state;
    await page
      .locator('.jp-LauncherCard[data-category="Notebook"]')
      .first()
      .click();
    await page.waitForSelector('.jp-NotebookPanel .jp-Cell .cm-content', {
      timeout: TIMEOUT
    });
    // The kernel is up once the status bar says so.
    await page.waitForSelector('#jp-main-statusbar >> text=/\\| Idle$/', {
      timeout: TIMEOUT
    });
    return {};
  },

  async run(state, { cells }) {
    const { page } = state;
    const panel = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden)');
    await page.waitForSelector('#jp-main-statusbar >> text=/\\| Idle$/');
    const executed = () =>
      page.evaluate(
        () =>
          [
            ...document.querySelectorAll(
              '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputPrompt'
            )
          ].filter(prompt => /\[\d+\]/.test(prompt.textContent)).length
      );
    const before = await executed();
    for (let i = 0; i < cells; i++) {
      await panel.locator('.jp-Cell').last().locator('.cm-content').click();
      await page.keyboard.type(`x = ${i} * 2`);
      await page.keyboard.press('Shift+Enter');
    }
    // Each run gets its number once the kernel answered.
    await page.waitForFunction(
      ([count, selector]) =>
        [...document.querySelectorAll(selector)].filter(prompt =>
          /\[\d+\]/.test(prompt.textContent)
        ).length >= count,
      [before + cells, '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputPrompt']
    );
    // Saved, so that a reload opens it again with its kernel.
    const saved = page.waitForResponse(
      response =>
        response.request().method() === 'PUT' &&
        response.url().includes('/api/contents/')
    );
    await panel.locator('[data-command="docmanager:save"]').click();
    // The first save asks for a name: the one it has.
    const rename = page.locator('.jp-Dialog .jp-mod-accept');
    await Promise.race([
      saved,
      rename
        .waitFor()
        .then(() => rename.click())
        .catch(() => undefined)
    ]);
    await saved;
    return {};
  },

  async 'toggle-sidebar'(state, { times }) {
    for (let i = 0; i < times; i++) {
      await state.page.keyboard.press('Control+b');
    }
    return {};
  },

  async 'withhold-answer'() {
    withholdNextAnswer = true;
    return {};
  },

  async reload(state) {
    await state.page.reload();
    await waitForLab(state.page);
    return { status: await statusText(state.page) };
  },

  async status(state) {
    return {
      status: await statusText(state.page),
      title: await state.page
        .locator('.jp-EventsStatus')
        .first()
        .getAttribute('title')
    };
  },

  async drain(state) {
    const { page } = state;
    // A burst of edits is recorded 2 s after its last keystroke (cellEditIdleMs).
    await page.waitForTimeout(2500);
    await page.waitForFunction(
      selector => {
        const text = document.querySelector(selector)?.textContent ?? '';
        return / 0 waiting · connected$/.test(text);
      },
      LAB_READY,
      { timeout: TIMEOUT }
    );
    return {
      status: await statusText(state.page),
      title: await page
        .locator('.jp-EventsStatus')
        .first()
        .getAttribute('title')
    };
  },

  async report() {
    return { record };
  }
};

async function main() {
  const browser = await chromium.launch(chromiumLaunchOptions());
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 }
  });
  await routeEventsSockets(context);
  const state = { page: await context.newPage() };
  state.page.setDefaultTimeout(TIMEOUT);
  const lines = readline.createInterface({ input: process.stdin });
  const answer = reply => process.stdout.write(JSON.stringify(reply) + '\n');
  for await (const line of lines) {
    const command = JSON.parse(line);
    if (command.do === 'quit') {
      break;
    }
    try {
      answer({ ok: true, ...(await commands[command.do](state, command)) });
    } catch (error) {
      if (process.env.EVENTS_HUB_SCREENSHOTS) {
        await state.page
          .screenshot({
            path: `${process.env.EVENTS_HUB_SCREENSHOTS}/${command.do}.png`
          })
          .catch(() => undefined);
      }
      answer({ ok: false, error: String(error?.stack ?? error) });
    }
  }
  await browser.close();
}

main().catch(error => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
