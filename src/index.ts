import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

import { requestAPI } from './request';

/**
 * The jupyter-events-ext plugin: checks that the server extension answers.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-events-ext:plugin',
  description:
    'Records validated JupyterLab UI events through the jupyter_events_ext server extension.',
  autoStart: true,
  activate: async (app: JupyterFrontEnd) => {
    const settings = app.serviceManager.serverSettings;
    try {
      const { schemas } = await requestAPI<{ schemas: unknown[] }>(
        'schemas',
        {},
        settings
      );
      console.log(
        `jupyter-events-ext is activated: ${schemas.length} event schemas registered.`
      );
    } catch (reason) {
      console.error(
        `The jupyter_events_ext server extension did not answer: ${reason}`
      );
    }
  }
};

export default plugin;
