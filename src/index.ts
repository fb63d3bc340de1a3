import type { IPlugin } from '@lumino/coreutils';

import { activityPlugin } from './activity/plugin';
import { capturePlugin } from './capture/plugin';
import { clientPlugin } from './client/plugin';
import { consentPlugin } from './consent/plugin';
import {
  eventManagerClientPlugin,
  eventManagerPlugin
} from './eventmanager/plugin';
import { settingsPlugin } from './settings/plugin';
import { statusPlugin } from './statusbar/plugin';
import { viewerPlugin } from './viewer/plugin';

export { ActionCapture } from './capture/capture';
export { EventsClient } from './client/client';
export { EventQueue } from './client/queue';
export { ServedEventManager } from './eventmanager/manager';
export { EventValidationError, SchemaValidator } from './client/validator';
export { StreamSubscription } from './stream/subscription';
export {
  ICaptureDrops,
  IEventsClient,
  IEventsConsent,
  IEventsSettings
} from './tokens';
export { EventViewer } from './viewer/widget';

/**
 * The plugins, one per feature folder (each in its `plugin.ts`); JupyterLab's
 * event manager only where JupyterLab has service-manager plugins (4.4+).
 */
const plugins: IPlugin<any, unknown>[] = [
  ...(eventManagerPlugin ? [eventManagerPlugin] : []),
  eventManagerClientPlugin,
  settingsPlugin,
  clientPlugin,
  capturePlugin,
  consentPlugin,
  viewerPlugin,
  statusPlugin,
  activityPlugin
];

export default plugins;
