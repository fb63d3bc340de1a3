import { Notification } from '@jupyterlab/apputils';
import { StateDB } from '@jupyterlab/statedb';
import type { PartialJSONObject } from '@lumino/coreutils';
import { MessageLoop } from '@lumino/messaging';

import type { EventsStatus } from '../statusbar/item';
import { FakeServer } from './fakeserver';
import { TestLab } from './lab';
import { click, shown, until } from './notifications';
import { SettingsConnector, settingRegistry } from './settings';
import { shippedSchemas } from './shipped';

const COMMAND_SCHEMA =
  'https://events.jupyter.org/jupyter_events_ext/command/v1';

/**
 * The plugins with a setting registry over these settings, and what each
 * surface says.
 */
class Lab {
  static async start(
    server: FakeServer,
    options: {
      overrides?: PartialJSONObject;
      user?: PartialJSONObject;
      state?: StateDB;
    }
  ): Promise<Lab> {
    const connector = new SettingsConnector(options.overrides ?? {});
    if (options.user) {
      await connector.setUser(options.user);
    }
    const registry = await settingRegistry(connector);
    return new Lab(
      await TestLab.start(server, { registry, state: options.state })
    );
  }

  constructor(readonly lab: TestLab) {}

  /**
   * The status bar's text, as rendered.
   */
  async status(): Promise<string> {
    const item = this.lab.statusItems[0] as EventsStatus;
    // It renders through React, some time after its model changed.
    await until(() => {
      MessageLoop.flush();
      return item.node.textContent === item.summary.text;
    });
    return item.node.textContent ?? '';
  }

  /**
   * "What this browser records" in the Event Viewer: whether it says that
   * actions are captured, and how.
   */
  async viewer(): Promise<{ on: string | undefined; text: string }> {
    const panel = await this.lab.commands.execute(
      'jupyter-events-ext:open-viewer'
    );
    const item = panel.node.querySelector(
      '.jp-EventViewer-setting[data-setting="capture"] .jp-EventViewer-settingText'
    ) as HTMLElement;
    const li = item.closest<HTMLElement>('li')!;
    return { on: li.dataset.on, text: item.textContent ?? '' };
  }

  /**
   * Whether a command run now is recorded by the server.
   */
  async records(server: FakeServer): Promise<boolean> {
    const before = server.recorded.length;
    await this.lab.commands.execute('test:run');
    await this.lab.client.flush();
    return server.recorded
      .slice(before)
      .some(
        e => e.schema_id === COMMAND_SCHEMA && e.data.command_id === 'test:run'
      );
  }

  dispose(): void {
    this.lab.dispose();
  }
}

describe('what this browser records: the status bar, the Event Viewer and what is sent agree', () => {
  let server: FakeServer;
  let lab: Lab | null;

  beforeEach(async () => {
    server = await FakeServer.start(shippedSchemas());
    lab = null;
  });

  afterEach(async () => {
    Notification.dismiss();
    lab?.dispose();
    document.body.replaceChildren();
    await server.close();
  });

  /**
   * What the three surfaces say, once the settings and the consent are read.
   */
  async function surfaces(lab: Lab) {
    await lab.lab.settings.ready;
    return {
      status: (await lab.status()).split(' · ')[0],
      viewer: await lab.viewer(),
      recorded: await lab.records(server)
    };
  }

  it('in the notice mode (the default): recording', async () => {
    lab = await Lab.start(server, {});
    expect(await surfaces(lab)).toEqual({
      status: 'Recording',
      viewer: { on: 'true', text: 'Your actions are captured:' },
      recorded: true
    });
  });

  it('in the opt-in mode before the user answers: nothing', async () => {
    lab = await Lab.start(server, { user: { consent: 'opt-in' } });
    await until(() => shown().length === 1);
    expect(await surfaces(lab)).toEqual({
      status: 'Not recording (no consent yet)',
      viewer: {
        on: 'false',
        text: 'Your actions are not captured until you agree.'
      },
      recorded: false
    });
  });

  it('in the opt-in mode once the user agreed: recording', async () => {
    lab = await Lab.start(server, { user: { consent: 'opt-in' } });
    await until(() => shown().length === 1);
    click(shown()[0], 'Agree');
    await until(() => lab!.lab.settings.recording!.capture);
    expect(await surfaces(lab)).toEqual({
      status: 'Recording (you agreed)',
      viewer: { on: 'true', text: 'Your actions are captured:' },
      recorded: true
    });
  });

  it('in the opt-in mode once the user declined: nothing', async () => {
    lab = await Lab.start(server, { user: { consent: 'opt-in' } });
    await until(() => shown().length === 1);
    click(shown()[0], 'Decline');
    await until(() => lab!.lab.settings.recording!.reason === 'declined');
    expect(await surfaces(lab)).toEqual({
      status: 'Not recording (declined)',
      viewer: {
        on: 'false',
        text: 'Your actions are not captured: you declined.'
      },
      recorded: false
    });
  });

  it('in the opt-in mode after a reload, as the user decided before', async () => {
    const state = new StateDB();
    lab = await Lab.start(server, { user: { consent: 'opt-in' }, state });
    await until(() => shown().length === 1);
    click(shown()[0], 'Agree');
    await until(() => lab!.lab.settings.recording!.capture);
    lab.dispose();
    Notification.dismiss();
    document.body.replaceChildren();

    lab = await Lab.start(server, { user: { consent: 'opt-in' }, state });
    await until(() => lab!.lab.settings.recording!.capture);
    expect(await surfaces(lab)).toEqual({
      status: 'Recording (you agreed)',
      viewer: { on: 'true', text: 'Your actions are captured:' },
      recorded: true
    });
    expect(shown()).toHaveLength(0);
  });

  it('in the none mode: recording', async () => {
    lab = await Lab.start(server, { user: { consent: 'none' } });
    expect(await surfaces(lab)).toEqual({
      status: 'Recording',
      viewer: { on: 'true', text: 'Your actions are captured:' },
      recorded: true
    });
  });

  it('in the opt-in mode the operator locks, whatever the user set: nothing before the answer', async () => {
    lab = await Lab.start(server, {
      overrides: { consent: 'opt-in', locked: ['consent'] },
      user: { consent: 'none' }
    });
    await until(() => shown().length === 1);
    expect(await surfaces(lab)).toEqual({
      status: 'Not recording (no consent yet)',
      viewer: {
        on: 'false',
        text: 'Your actions are not captured until you agree.'
      },
      recorded: false
    });
  });

  it('with the capture setting off: nothing', async () => {
    lab = await Lab.start(server, { user: { capture: false } });
    expect(await surfaces(lab)).toEqual({
      status: 'Not recording',
      viewer: { on: 'false', text: 'Your actions are not captured.' },
      recorded: false
    });
  });
});
