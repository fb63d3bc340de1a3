import {
  ILabShell,
  ILayoutRestorer,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  IThemeManager,
  MainAreaWidget,
  WidgetTracker
} from '@jupyterlab/apputils';
import { IMainMenu } from '@jupyterlab/mainmenu';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { LabIcon } from '@jupyterlab/ui-components';

import { IEventsClient } from '../tokens';
import { ActivityView } from './widget';

/**
 * The command that opens the Activity view (the Event Viewer's toolbar runs
 * it too).
 */
export const OPEN_ACTIVITY = 'jupyter-events-ext:open-activity';

/**
 * A bar chart, in the theme's icon colour.
 */
export const activityIcon = new LabIcon({
  name: 'jupyter-events-ext:activity',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24">' +
    '<g class="jp-icon3" fill="#616161">' +
    '<rect x="3" y="13" width="4" height="8" rx="1"/>' +
    '<rect x="10" y="8" width="4" height="13" rx="1"/>' +
    '<rect x="17" y="3" width="4" height="18" rx="1"/>' +
    '</g></svg>'
});

/**
 * The Activity view and the command that opens it.
 */
export const activityPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-events-ext:activity',
  description:
    'Adds the Event Activity view: live charts of the recorded events, drawn by JupyterLab’s Vega-Lite renderer.',
  autoStart: true,
  requires: [IEventsClient, IRenderMimeRegistry],
  optional: [
    ITranslator,
    ICommandPalette,
    ILayoutRestorer,
    IThemeManager,
    IMainMenu,
    ILabShell
  ],
  activate: (
    app: JupyterFrontEnd,
    client: IEventsClient,
    rendermime: IRenderMimeRegistry,
    translator: ITranslator | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    themeManager: IThemeManager | null,
    mainMenu: IMainMenu | null,
    labShell: ILabShell | null
  ): void => {
    translator = translator ?? nullTranslator;
    const trans = translator.load('jupyter_events_ext');
    const tracker = new WidgetTracker<MainAreaWidget<ActivityView>>({
      namespace: 'jupyter-events-ext-activity'
    });
    let widget: MainAreaWidget<ActivityView> | null = null;
    app.commands.addCommand(OPEN_ACTIVITY, {
      label: trans.__('Event Activity'),
      caption: trans.__(
        'Chart the recorded events, live: events per minute, cell durations and failures, the top commands'
      ),
      icon: args => (args.isPalette ? undefined : activityIcon),
      execute: () => {
        // One view: its own reference, since the tracker learns of a new
        // widget only asynchronously.
        if (!widget || widget.isDisposed) {
          widget = new MainAreaWidget({
            content: new ActivityView({ client, rendermime, translator })
          });
          widget.id = 'jupyter-events-ext-activity';
          widget.title.label = trans.__('Event Activity');
          widget.title.icon = activityIcon;
          widget.title.closable = true;
          void tracker.add(widget);
        }
        if (!widget.isAttached) {
          // A tab of JupyterLab's main area; Jupyter Notebook's main area
          // holds the page's one document, so there a side panel.
          app.shell.add(widget, labShell ? 'main' : 'right');
        }
        app.shell.activateById(widget.id);
        return widget;
      }
    });
    palette?.addItem({
      command: OPEN_ACTIVITY,
      category: trans.__('Events')
    });
    // Beside the Event Viewer's entry (its group's rank).
    mainMenu?.viewMenu.addItem({ command: OPEN_ACTIVITY, rank: 100 });
    themeManager?.themeChanged.connect(() =>
      tracker.forEach(widget => widget.content.refreshTheme())
    );
    if (restorer) {
      void restorer.restore(tracker, {
        command: OPEN_ACTIVITY,
        name: () => 'activity'
      });
    }
  }
};
