import { Notification } from '@jupyterlab/apputils';
import { StateDB } from '@jupyterlab/statedb';
import { nullTranslator } from '@jupyterlab/translation';
import { CommandRegistry } from '@lumino/commands';
import { IDBFactory } from 'fake-indexeddb';

import { EventsClient } from '../client/client';
import { CONSENT_SCHEMA, ConsentKeeper } from '../consent/keeper';
import { ConsentNotifications } from '../consent/notifications';
import { captureAllowed } from '../settings/recording';
import type { IEventsConsent } from '../tokens';
import { FakeServer } from './fakeserver';
import { click, shown, until } from './notifications';
import { shippedSchemas } from './shipped';

const trans = nullTranslator.load('jupyter_events_ext');

const KINDS = [
  'commands',
  'documents',
  'cell runs',
  'kernels',
  'active document'
];

describe('ConsentKeeper', () => {
  let server: FakeServer;
  let client: EventsClient;
  let state: StateDB;
  let commands: CommandRegistry;
  let executed: { id: string; args: unknown }[];
  const keepers: ConsentKeeper[] = [];

  beforeEach(async () => {
    server = await FakeServer.start(shippedSchemas());
    client = new EventsClient({
      serverSettings: server.settings,
      indexedDB: new IDBFactory(),
      storage: null,
      batchInterval: 20
    });
    state = new StateDB();
    commands = new CommandRegistry();
    executed = [];
    for (const id of ['jupyter-events-ext:open-viewer', 'settingeditor:open']) {
      commands.addCommand(id, {
        execute: args => void executed.push({ id, args })
      });
    }
  });

  afterEach(async () => {
    for (const keeper of keepers.splice(0)) {
      keeper.dispose();
    }
    Notification.dismiss();
    client.dispose();
    await server.close();
  });

  /**
   * A keeper as the consent plugin makes it, configured with a mode.
   */
  async function keeper(
    mode: IEventsConsent.Mode,
    options: { capture?: boolean; kinds?: string[]; appName?: string } = {}
  ): Promise<ConsentKeeper> {
    const made = new ConsentKeeper({
      client,
      state,
      commands,
      trans,
      appName: options.appName
    });
    keepers.push(made);
    made.configure({
      mode,
      capture: options.capture ?? true,
      kinds: options.kinds ?? KINDS
    });
    await made.ready;
    // Notifications are shown once the application is restored: a tick here.
    await new Promise(resolve => setTimeout(resolve, 0));
    return made;
  }

  function consentEvents() {
    return server.recorded
      .filter(e => e.schema_id === CONSENT_SCHEMA)
      .map(e => e.data);
  }

  describe('notice', () => {
    it('says on first run what is recorded and where, with Details and Settings', async () => {
      const notice = await keeper('notice');

      expect(shown()).toHaveLength(1);
      const [notification] = shown();
      expect(notification.id).toBe(notice.notificationId);
      expect(notification.message).toBe(
        'JupyterLab records your actions here (commands, documents, cell runs, kernels, active document) as events on this Jupyter server.'
      );
      expect(notification.message.length).toBeLessThanOrEqual(140);
      expect(notification.options.autoClose).toBe(false);
      expect(notification.options.actions?.map(a => a.label)).toEqual([
        'Details',
        'Settings'
      ]);
      // A notice asks nothing: capture goes on.
      expect(notice.allowsCapture).toBe(true);
    });

    it('names the frontend, and offers Settings only where the Settings Editor is (Jupyter Notebook: in the tree view)', async () => {
      commands = new CommandRegistry();
      commands.addCommand('jupyter-events-ext:open-viewer', {
        execute: () => undefined
      });
      await keeper('notice', { appName: 'Jupyter Notebook' });

      const [notification] = shown();
      expect(notification.message).toBe(
        'Jupyter Notebook records your actions here (commands, documents, cell runs, kernels, active document) as events on this Jupyter server.'
      );
      expect(notification.options.actions?.map(a => a.label)).toEqual([
        'Details'
      ]);
    });

    it('opens the Event Viewer and the Settings Editor from its actions', async () => {
      await keeper('notice');
      click(shown()[0], 'Details');
      expect(executed).toEqual([
        { id: 'jupyter-events-ext:open-viewer', args: {} }
      ]);

      Notification.dismiss();
      state = new StateDB();
      await keeper('notice');
      click(shown()[0], 'Settings');
      expect(executed[1]).toEqual({
        id: 'settingeditor:open',
        args: { query: 'Events' }
      });
    });

    it('is not shown again once seen, after a reload', async () => {
      const first = await keeper('notice');
      Notification.dismiss(shown()[0].id);
      await until(() => first.noticeSeen);
      first.dispose();

      const second = await keeper('notice');
      expect(second.noticeSeen).toBe(true);
      expect(shown()).toHaveLength(0);
    });

    it('is shown again after a reload when it was never dismissed', async () => {
      (await keeper('notice')).dispose();
      Notification.dismiss(); // The page went away, the notice unread.
      // (dismissing here is the reload's doing, not the user's: the state says so)
      expect(await state.fetch('jupyter-events-ext:consent')).toBeUndefined();
      await keeper('notice');
      expect(shown()).toHaveLength(1);
    });

    it('names fewer kinds when fewer are captured, and waits while capture is off', async () => {
      const notice = await keeper('notice', { capture: false });
      expect(shown()).toHaveLength(0);

      notice.configure({ mode: 'notice', capture: true, kinds: ['commands'] });
      await until(() => shown().length === 1);
      expect(shown()[0].message).toBe(
        'JupyterLab records your actions here (commands) as events on this Jupyter server.'
      );
    });
  });

  describe('opt-in', () => {
    it('allows no capture and asks, before any decision', async () => {
      const optIn = await keeper('opt-in');

      expect(optIn.allowsCapture).toBe(false);
      expect(optIn.decision).toBeNull();
      expect(shown()).toHaveLength(1);
      const [question] = shown();
      expect(question.message).toBe(
        'Record your actions (commands, documents, cell runs, kernels, active document) on this Jupyter server? Nothing is recorded unless you agree.'
      );
      expect(question.options.autoClose).toBe(false);
      expect(question.options.actions?.map(a => a.label)).toEqual([
        'Agree',
        'Decline',
        'Details'
      ]);
    });

    it('keeps the question open while the user looks at the details', async () => {
      await keeper('opt-in');
      click(shown()[0], 'Details');
      expect(executed.map(e => e.id)).toEqual([
        'jupyter-events-ext:open-viewer'
      ]);
      expect(shown()).toHaveLength(1);
    });

    it('allows capture once the user agrees, remembers it and records it', async () => {
      const optIn = await keeper('opt-in');
      let changes = 0;
      optIn.changed.connect(() => changes++);

      click(shown()[0], 'Agree');
      await until(() => optIn.allowsCapture);

      expect(changes).toBe(1);
      expect(shown()).toHaveLength(0);
      await client.flush();
      await until(() => consentEvents().length === 1);
      expect(consentEvents()).toEqual([{ decision: 'agreed' }]);
      optIn.dispose();

      // After a reload: agreed, nothing asked.
      const reloaded = await keeper('opt-in');
      expect(reloaded.decision).toBe('agreed');
      expect(reloaded.allowsCapture).toBe(true);
      expect(shown()).toHaveLength(0);
    });

    it('records a decline, and a later change of mind with what it replaces', async () => {
      const optIn = await keeper('opt-in');
      click(shown()[0], 'Decline');
      await until(() => optIn.decision === 'declined');
      expect(optIn.allowsCapture).toBe(false);
      expect(shown()).toHaveLength(0);

      // The change-consent command asks again; asked twice, it asks once.
      optIn.ask();
      const question = optIn.notificationId;
      optIn.ask();
      expect(optIn.notificationId).toBe(question);
      expect(shown()).toHaveLength(1);
      click(shown()[0], 'Agree');
      await until(() => optIn.allowsCapture);

      await client.flush();
      await until(() => consentEvents().length === 2);
      expect(consentEvents()).toEqual([
        { decision: 'declined' },
        { decision: 'agreed', previous: 'declined' }
      ]);
    });

    it('asks again after a reload when the question was closed unanswered', async () => {
      const optIn = await keeper('opt-in');
      Notification.dismiss(shown()[0].id);
      expect(optIn.decision).toBeNull();
      optIn.dispose();

      await keeper('opt-in');
      expect(shown()).toHaveLength(1);
    });

    it('withdraws the question when the mode changes', async () => {
      const optIn = await keeper('opt-in');
      optIn.configure({ mode: 'none', capture: true, kinds: KINDS });
      await until(() => shown().length === 0);
      expect(optIn.allowsCapture).toBe(true);
    });

    it('allows no capture without the consent plugin', () => {
      expect(captureAllowed('opt-in', null)).toBe(false);
      expect(captureAllowed('notice', null)).toBe(true);
      expect(captureAllowed('none', null)).toBe(true);
    });
  });

  describe('none', () => {
    it('says nothing and allows capture', async () => {
      const none = await keeper('none');
      expect(shown()).toHaveLength(0);
      expect(none.allowsCapture).toBe(true);
    });
  });

  it('names the capture kinds the settings switch on', () => {
    // Those the settings leave out have their defaults: clipboard and
    // snapshots are off unless switched on.
    expect(
      ConsentNotifications.kindsOf(
        { commands: true, kernels: false, clipboard: true },
        trans
      )
    ).toEqual([
      'commands',
      'documents',
      'cell runs',
      'active document',
      'cell edits',
      'notebook structure',
      'what is in view',
      'output summaries',
      'clipboard counts'
    ]);
  });

  it('names as many kinds as a notification shows, and counts the rest', async () => {
    const notice = await keeper('notice', {
      kinds: ConsentNotifications.kindsOf({}, trans)
    });
    const [notification] = shown();
    expect(notification.id).toBe(notice.notificationId);
    expect(notification.message).toBe(
      'JupyterLab records your actions here (commands, documents, cell runs, kernels, active document and 4 more) as events on this Jupyter server.'
    );
    expect(notification.message.length).toBeLessThanOrEqual(140);
  });
});
