import { activityPlugin } from './activity/plugin';
import { capturePlugin } from './capture/plugin';
import { clientPlugin } from './client/plugin';
import { consentPlugin } from './consent/plugin';
import { settingsPlugin } from './settings/plugin';
import { statusPlugin } from './statusbar/plugin';
import { viewerPlugin } from './viewer/plugin';

export { ActionCapture } from './capture/capture';
export { EventsClient } from './client/client';
export { EventQueue } from './client/queue';
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
 * The plugins, one per feature folder (each in its `plugin.ts`).
 */
export default [
  settingsPlugin,
  clientPlugin,
  capturePlugin,
  consentPlugin,
  viewerPlugin,
  statusPlugin,
  activityPlugin
];
