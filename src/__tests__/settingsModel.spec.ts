import { Notification } from '@jupyterlab/apputils';
import {
  type ISettingRegistry,
  SettingRegistry
} from '@jupyterlab/settingregistry';
import { StateDB } from '@jupyterlab/statedb';
import { nullTranslator } from '@jupyterlab/translation';
import { CommandRegistry } from '@lumino/commands';
import { PromiseDelegate, type PartialJSONObject } from '@lumino/coreutils';

import { EventsClient } from '../client/client';
import { EventQueue } from '../client/queue';
import { ConsentKeeper } from '../consent/keeper';
import {
  DEFAULT_CONFIG,
  DEFAULT_DELIVERY,
  KINDS,
  parseSettings
} from '../settings/config';
import { OperatorLocks } from '../settings/locks';
import { EventsSettings } from '../settings/model';
import type { IEventsClient, IEventsSettings } from '../tokens';
import { RecordingClient } from './recordingclient';
import {
  SETTINGS_ID,
  SettingsConnector,
  settingRegistry,
  shippedSchema
} from './settings';

const trans = nullTranslator.load('jupyter_events_ext');

describe('EventsSettings', () => {
  const keepers: ConsentKeeper[] = [];

  afterEach(() => {
    for (const keeper of keepers.splice(0)) {
      keeper.dispose();
    }
    Notification.dismiss();
  });

  /**
   * The plugin's settings as the registry gives them: the overrides as the
   * defaults, the user's own, the operator's locks applied.
   */
  async function load(
    options: { overrides?: PartialJSONObject; user?: PartialJSONObject } = {}
  ): Promise<ISettingRegistry.ISettings> {
    const connector = new SettingsConnector(options.overrides ?? {});
    if (options.user) {
      await connector.setUser(options.user);
    }
    const registry = await settingRegistry(connector);
    OperatorLocks.register(registry, SETTINGS_ID, trans);
    return registry.load(SETTINGS_ID);
  }

  async function model(
    options: { overrides?: PartialJSONObject; user?: PartialJSONObject } = {}
  ): Promise<EventsSettings> {
    const settings = new EventsSettings({ settings: load(options) });
    await settings.ready;
    return settings;
  }

  /**
   * A consent keeper in a mode, as the consent plugin makes it, with its
   * remembered decision read.
   */
  async function keeper(
    mode: 'notice' | 'opt-in' | 'none',
    state = new StateDB()
  ): Promise<ConsentKeeper> {
    const made = new ConsentKeeper({
      client: new RecordingClient() as unknown as IEventsClient,
      state,
      commands: new CommandRegistry(),
      trans
    });
    keepers.push(made);
    made.configure({ mode, capture: true, kinds: [] });
    await made.ready;
    return made;
  }

  /**
   * The answer in short: recorded or not, why not, and for one kind.
   */
  function answer(settings: IEventsSettings) {
    const { capture, reason } = settings.recording!;
    return { capture, reason, commands: settings.isRecorded('commands') };
  }

  describe('reads the settings once, typed and frozen', () => {
    it('has the defaults of the schema without a setting registry', () => {
      const settings = new EventsSettings();
      expect(settings.config!.capture).toEqual(DEFAULT_CONFIG);
      expect(settings.config!.delivery).toEqual({
        batchSize: 200,
        batchInterval: 1000,
        queueBound: 10000
      });
      expect(settings.config!.consent).toBe('notice');
      expect(answer(settings)).toEqual({
        capture: true,
        reason: null,
        commands: true
      });
    });

    it('parses the composite the registry gives, locks applied', async () => {
      const settings = await model({
        overrides: { pathMode: 'omitted', locked: ['pathMode'] },
        user: { pathMode: 'as-is', documents: false, batchSize: 50 }
      });
      const config = settings.config!;
      expect(config.capture.pathMode).toBe('omitted');
      expect(config.capture.documents).toBe(false);
      expect(config.delivery.batchSize).toBe(50);
      expect(config.locked).toEqual(['pathMode']);
      expect(settings.recording!.pathMode).toBe('omitted');
      expect(settings.recording!.locked).toEqual(['pathMode']);
    });

    it('freezes what it gives, down to the lists', async () => {
      const settings = await model({ user: { commandDeny: ['a:*'] } });
      const config = settings.config!;
      expect(Object.isFrozen(config)).toBe(true);
      expect(Object.isFrozen(config.capture)).toBe(true);
      expect(Object.isFrozen(config.capture.commandDeny)).toBe(true);
      expect(Object.isFrozen(settings.recording)).toBe(true);
      expect(() =>
        (config.capture.commandDeny as string[]).push('b')
      ).toThrow();
    });

    it('has the delivery defaults of the schema, the client and the queue', () => {
      const schema = shippedSchema().properties!;
      expect(DEFAULT_DELIVERY).toEqual({
        batchSize: schema.batchSize.default,
        batchInterval: schema.batchInterval.default,
        queueBound: schema.queueBound.default
      });
      expect(DEFAULT_DELIVERY).toEqual({
        batchSize: EventsClient.DEFAULT_BATCH_SIZE,
        batchInterval: EventsClient.DEFAULT_BATCH_INTERVAL,
        queueBound: EventQueue.DEFAULT_BOUND
      });
    });

    it('takes a value of the wrong type for the default', () => {
      const config = parseSettings({
        capture: 'yes',
        commands: false,
        pathMode: 'sideways',
        commandAllow: [1, 2],
        batchSize: '10',
        consent: 'ask-later'
      });
      expect(config.capture.enabled).toBe(true);
      expect(config.capture.commands).toBe(false);
      expect(config.capture.pathMode).toBe('hashed');
      expect(config.capture.commandAllow).toEqual(['*']);
      expect(config.delivery.batchSize).toBe(200);
      // A mode this version does not know asks first.
      expect(config.consent).toBe('opt-in');
    });

    it('records nothing when the settings cannot be read', async () => {
      const connector = new SettingsConnector();
      connector.fetch = () => Promise.reject(new Error('no settings'));
      const registry = new SettingRegistry({ connector });
      const error = jest.spyOn(console, 'error').mockImplementation(() => {});
      const settings = new EventsSettings({
        settings: registry.load(SETTINGS_ID)
      });
      await settings.ready;
      error.mockRestore();
      expect(settings.config).toBeNull();
      expect(settings.recording).toBeNull();
      expect(KINDS.some(kind => settings.isRecorded(kind))).toBe(false);
    });

    it('says changed once per change in force, and not for one that changes nothing', async () => {
      const loaded = await load({
        overrides: { capture: true, locked: ['capture'] }
      });
      const settings = new EventsSettings({ settings: loaded });
      await settings.ready;
      let changes = 0;
      settings.changed.connect(() => changes++);
      const before = settings.config;

      await loaded.set('documents', false);
      expect(changes).toBe(1);
      expect(settings.isRecorded('documents')).toBe(false);
      expect(settings.config).not.toBe(before);

      // Locked: the value in force stays, so nothing changed.
      await loaded.set('capture', false);
      expect(changes).toBe(1);
      expect(settings.recording!.capture).toBe(true);
    });

    it('answers per kind: a kind switched off is not recorded', async () => {
      const settings = await model({
        user: { clipboard: true, kernels: false }
      });
      expect(settings.isRecorded('clipboard')).toBe(true);
      expect(settings.isRecorded('kernels')).toBe(false);
      expect(settings.isRecorded('snapshots')).toBe(false);
    });
  });

  describe('takes the consent into account, in every state', () => {
    it('notice: recorded, the user told or not', async () => {
      const settings = await model({ user: { consent: 'notice' } });
      expect(answer(settings)).toEqual({
        capture: true,
        reason: null,
        commands: true
      });
      settings.useConsent(await keeper('notice'));
      expect(answer(settings)).toEqual({
        capture: true,
        reason: null,
        commands: true
      });
    });

    it('opt-in, before the answer: nothing, and no consent plugin asks nothing', async () => {
      const settings = await model({ user: { consent: 'opt-in' } });
      // No consent plugin: no one to ask.
      expect(answer(settings)).toEqual({
        capture: false,
        reason: 'no-consent',
        commands: false
      });
      settings.useConsent(await keeper('opt-in'));
      expect(answer(settings)).toEqual({
        capture: false,
        reason: 'no-consent',
        commands: false
      });
    });

    it('opt-in, after the answer: as the user decided, told at once', async () => {
      const settings = await model({ user: { consent: 'opt-in' } });
      const consent = await keeper('opt-in');
      settings.useConsent(consent);
      let changes = 0;
      settings.changed.connect(() => changes++);

      await consent.decide('agreed');
      expect(changes).toBe(1);
      expect(answer(settings)).toEqual({
        capture: true,
        reason: null,
        commands: true
      });
      expect(settings.recording!.consent).toBe('opt-in');

      await consent.decide('declined');
      expect(changes).toBe(2);
      expect(answer(settings)).toEqual({
        capture: false,
        reason: 'declined',
        commands: false
      });
    });

    it('opt-in, a decision remembered from an earlier page', async () => {
      const state = new StateDB();
      await (await keeper('opt-in', state)).decide('agreed');
      const settings = await model({ user: { consent: 'opt-in' } });
      settings.useConsent(await keeper('opt-in', state));
      expect(answer(settings)).toEqual({
        capture: true,
        reason: null,
        commands: true
      });
    });

    it('declined: nothing, whatever kinds are on', async () => {
      const settings = await model({
        user: { consent: 'opt-in', clipboard: true }
      });
      const consent = await keeper('opt-in');
      settings.useConsent(consent);
      await consent.decide('declined');
      expect(answer(settings)).toEqual({
        capture: false,
        reason: 'declined',
        commands: false
      });
      expect(settings.isRecorded('clipboard')).toBe(false);
    });

    it('none: recorded, nothing asked', async () => {
      const settings = await model({ user: { consent: 'none' } });
      settings.useConsent(await keeper('none'));
      expect(answer(settings)).toEqual({
        capture: true,
        reason: null,
        commands: true
      });
    });

    it('opt-in locked by the operator: asked first, whatever the user set', async () => {
      const settings = await model({
        overrides: { consent: 'opt-in', locked: ['consent'] },
        user: { consent: 'none' }
      });
      const consent = await keeper('opt-in');
      settings.useConsent(consent);
      expect(settings.recording!.locked).toEqual(['consent']);
      expect(answer(settings)).toEqual({
        capture: false,
        reason: 'no-consent',
        commands: false
      });
      await consent.decide('agreed');
      expect(answer(settings)).toEqual({
        capture: true,
        reason: null,
        commands: true
      });
    });

    it('capture off: nothing, whatever the consent', async () => {
      const settings = await model({
        user: { consent: 'opt-in', capture: false }
      });
      const consent = await keeper('opt-in');
      settings.useConsent(consent);
      await consent.decide('agreed');
      expect(answer(settings)).toEqual({
        capture: false,
        reason: 'off',
        commands: false
      });
    });

    it('forgets a consent withdrawn: opt-in records nothing again', async () => {
      const settings = await model({ user: { consent: 'opt-in' } });
      const consent = await keeper('opt-in');
      const use = settings.useConsent(consent);
      await consent.decide('agreed');
      expect(settings.recording!.capture).toBe(true);
      use.dispose();
      expect(answer(settings)).toEqual({
        capture: false,
        reason: 'no-consent',
        commands: false
      });
    });
  });

  describe('follows the server’s path policy', () => {
    it('records no path until the server says, then never less protected than it', async () => {
      const settings = await model({ user: { pathMode: 'as-is' } });
      expect(settings.recording!.pathMode).toBe('as-is');
      const answer = new PromiseDelegate<IEventsSettings.PathMode | null>();
      settings.useServerPathMode(answer.promise);
      expect(settings.recording!.pathMode).toBe('omitted');
      answer.resolve('hashed');
      await answer.promise;
      await Promise.resolve();
      expect(settings.recording!.pathMode).toBe('hashed');
      expect(settings.recording!.serverPathMode).toBe('hashed');
    });

    it('keeps a setting more protected than the server’s policy', async () => {
      const settings = await model({ user: { pathMode: 'omitted' } });
      settings.useServerPathMode(Promise.resolve('as-is'));
      await new Promise(resolve => setTimeout(resolve, 0));
      expect(settings.recording!.pathMode).toBe('omitted');
      expect(settings.recording!.serverPathMode).toBe('as-is');
    });

    it('follows the setting when the server has no policy or cannot say', async () => {
      for (const answer of [
        () => Promise.resolve(null),
        () => Promise.reject(new Error('no server'))
      ]) {
        const settings = await model({ user: { pathMode: 'as-is' } });
        settings.useServerPathMode(answer());
        await new Promise(resolve => setTimeout(resolve, 0));
        expect(settings.recording!.pathMode).toBe('as-is');
        expect(settings.recording!.serverPathMode).toBe(null);
      }
    });
  });
});
