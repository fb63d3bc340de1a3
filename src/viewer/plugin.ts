import {
  ILabShell,
  ILayoutRestorer,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IMainMenu } from '@jupyterlab/mainmenu';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { ICaptureDrops, IEventsClient, IEventsSettings } from '../tokens';
import { addViewerCommands, CommandIDs } from './commands';
import { EventViewer } from './widget';

/**
 * The Event Viewer panel and its commands (`commands.ts`).
 */
export const viewerPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-events-ext:viewer',
  description:
    'Adds the Event Viewer: live events, what waits to be sent, and what this browser records.',
  autoStart: true,
  requires: [IEventsClient, IEventsSettings],
  optional: [
    ICommandPalette,
    IMainMenu,
    ILayoutRestorer,
    ITranslator,
    ICaptureDrops,
    ILabShell
  ],
  activate: (
    app: JupyterFrontEnd,
    client: IEventsClient,
    settings: IEventsSettings,
    palette: ICommandPalette | null,
    mainMenu: IMainMenu | null,
    restorer: ILayoutRestorer | null,
    translator: ITranslator | null,
    captureDrops: ICaptureDrops | null,
    labShell: ILabShell | null
  ): void => {
    translator = translator ?? nullTranslator;
    const trans = translator.load('jupyter_events_ext');
    const viewers = new Set<EventViewer>();
    captureDrops?.dropsChanged.connect((_, drops) =>
      viewers.forEach(viewer => (viewer.captureDrops = drops))
    );
    const tracker = addViewerCommands({
      commands: app.commands,
      shell: app.shell,
      palette,
      trans,
      // A tab of JupyterLab's main area; Jupyter Notebook's main area holds
      // the page's one document, so there a side panel.
      area: labShell ? 'main' : 'right',
      createViewer: () => {
        const viewer = new EventViewer({
          client,
          settings,
          translator: translator!,
          onOpenSettings: () =>
            void app.commands.execute(CommandIDs.openSettings)
        });
        viewer.captureDrops = captureDrops?.drops ?? {};
        viewers.add(viewer);
        viewer.disposed.connect(() => viewers.delete(viewer));
        return viewer;
      }
    });
    mainMenu?.viewMenu.addGroup([{ command: CommandIDs.open }], 100);
    if (restorer) {
      void restorer.restore(tracker, {
        command: CommandIDs.open,
        name: () => 'viewer'
      });
    }
  }
};
