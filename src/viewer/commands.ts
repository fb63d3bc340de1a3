import type { JupyterFrontEnd } from '@jupyterlab/application';
import {
  type ICommandPalette,
  MainAreaWidget,
  WidgetTracker
} from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import {
  clearIcon,
  CommandToolbarButton,
  downloadIcon,
  filterIcon,
  listIcon,
  pauseIcon,
  runIcon,
  searchIcon,
  settingsIcon,
  Toolbar
} from '@jupyterlab/ui-components';
import type { CommandRegistry } from '@lumino/commands';
import type { ReadonlyJSONObject } from '@lumino/coreutils';

import type { EventViewer } from './widget';
import { EventSearch, SchemaFilter } from './toolbar';

/**
 * The ids of the Event Viewer's commands.
 */
export namespace CommandIDs {
  export const open = 'jupyter-events-ext:open-viewer';
  export const togglePause = 'jupyter-events-ext:viewer-toggle-pause';
  export const clear = 'jupyter-events-ext:viewer-clear';
  export const filter = 'jupyter-events-ext:viewer-filter';
  export const search = 'jupyter-events-ext:viewer-search';
  export const exportEvents = 'jupyter-events-ext:viewer-export';
  export const openSettings = 'jupyter-events-ext:open-settings';
  /**
   * Another plugin's: the Activity view. Its toolbar button shows only
   * when the command exists.
   */
  export const openActivity = 'jupyter-events-ext:open-activity';
}

/**
 * The commands that act on the Event Viewer, in the order of its toolbar.
 */
const VIEWER_COMMANDS = [
  CommandIDs.togglePause,
  CommandIDs.clear,
  CommandIDs.filter,
  CommandIDs.search,
  CommandIDs.exportEvents
];

/**
 * Add the Event Viewer's commands, to the palette too (category "Events"),
 * and return the tracker of its panels. Each panel's toolbar is built from
 * the commands, as JupyterLab's Log Console builds its own.
 */
export function addViewerCommands(
  options: IViewerCommandsOptions
): WidgetTracker<MainAreaWidget<EventViewer>> {
  const { commands, shell, palette, trans, createViewer } = options;
  const area = options.area ?? 'main';
  const tracker = new WidgetTracker<MainAreaWidget<EventViewer>>({
    namespace: 'jupyter-events-ext-viewer'
  });
  const current = (): EventViewer | null => {
    const panel = tracker.currentWidget;
    return panel && !panel.isDisposed ? panel.content : null;
  };
  const hasViewer = () => current() !== null;
  const items = new WeakMap<EventViewer, IToolbarItems>();

  let opened: MainAreaWidget<EventViewer> | null = null;
  commands.addCommand(CommandIDs.open, {
    label: trans.__('Event Viewer'),
    caption: trans.__('Show the events recorded by the server, live'),
    icon: args => (args.isPalette ? undefined : listIcon),
    execute: () => {
      // The tracker learns of a new panel asynchronously: keep our own
      // reference too, so that two quick runs open one Viewer.
      let panel = opened ?? tracker.currentWidget;
      if (!panel || panel.isDisposed) {
        const viewer = createViewer();
        panel = new MainAreaWidget({ content: viewer });
        panel.id = 'jupyter-events-ext-viewer';
        panel.title.label = trans.__('Event Viewer');
        panel.title.icon = listIcon;
        panel.title.closable = true;
        items.set(viewer, populateToolbar(panel.toolbar, viewer, commands));
        viewer.stateChanged.connect(() => {
          for (const id of VIEWER_COMMANDS) {
            commands.notifyCommandChanged(id);
          }
        });
        opened = panel;
        panel.disposed.connect(() => {
          if (opened === panel) {
            opened = null;
          }
        });
        void tracker.add(panel);
      }
      if (!panel.isAttached) {
        shell.add(panel, area);
      }
      shell.activateById(panel.id);
      return panel;
    }
  });

  commands.addCommand(CommandIDs.togglePause, {
    label: args => {
      const viewer = current();
      if (!viewer?.paused) {
        return args.isPalette
          ? trans.__('Pause the Event Viewer')
          : trans.__('Pause');
      }
      const held = viewer.log.heldCount;
      return held
        ? trans._n('Resume (%1 new)', 'Resume (%1 new)', held)
        : args.isPalette
          ? trans.__('Resume the Event Viewer')
          : trans.__('Resume');
    },
    caption: () =>
      current()?.paused
        ? trans.__('Show the events that arrived while paused, and new ones')
        : trans.__(
            'Hold new events back (they are kept) so the rows stay still'
          ),
    icon: () => (current()?.paused ? runIcon : pauseIcon),
    isToggled: () => current()?.paused ?? false,
    isEnabled: hasViewer,
    execute: () => current()?.togglePaused()
  });

  commands.addCommand(CommandIDs.clear, {
    label: args =>
      args.isPalette ? trans.__('Clear the Event Viewer') : trans.__('Clear'),
    caption: trans.__(
      'Remove every event from the viewer (the server and its sinks keep them)'
    ),
    icon: clearIcon,
    isEnabled: hasViewer,
    execute: () => current()?.clear()
  });

  commands.addCommand(CommandIDs.filter, {
    label: args =>
      typeof args.schema === 'string' && args.schema
        ? trans.__('Show Only %1 Events', args.schema)
        : trans.__('Filter Events by Schema'),
    caption: trans.__(
      'Show the events of one schema only (argument "schema": its $id, empty for every schema)'
    ),
    icon: filterIcon,
    isToggled: () => (current()?.filter ?? null) !== null,
    isEnabled: hasViewer,
    execute: args => {
      const viewer = current();
      if (!viewer) {
        return;
      }
      if (typeof args.schema === 'string' || args.schema === null) {
        viewer.filter = (args.schema as string | null) || null;
      } else {
        items.get(viewer)?.filter.focus();
      }
    }
  });

  commands.addCommand(CommandIDs.search, {
    label: trans.__('Search Events'),
    caption: trans.__(
      'Show the events whose JSON contains a text (argument "query")'
    ),
    icon: searchIcon,
    isToggled: () => (current()?.query ?? '') !== '',
    isEnabled: hasViewer,
    execute: args => {
      const viewer = current();
      if (!viewer) {
        return;
      }
      if (typeof args.query === 'string') {
        viewer.query = args.query;
      } else {
        items.get(viewer)?.search.focus();
      }
    }
  });

  commands.addCommand(CommandIDs.exportEvents, {
    label: args =>
      args.isPalette
        ? trans.__('Export the Shown Events as JSON Lines')
        : trans.__('Export'),
    caption: trans.__(
      'Download the events that match the filter and search (all those kept, not only the rows on screen) as a JSON-lines file, earliest first'
    ),
    icon: downloadIcon,
    isEnabled: hasViewer,
    execute: () => current()?.download()
  });

  commands.addCommand(CommandIDs.openSettings, {
    label: args =>
      args.isPalette
        ? trans.__('Open the Events Settings')
        : trans.__('Settings'),
    caption: trans.__(
      'What is captured in this browser, how paths are recorded, and delivery: the "Events" page of the Settings Editor'
    ),
    icon: settingsIcon,
    isEnabled: () => commands.hasCommand('settingeditor:open'),
    execute: () => commands.execute('settingeditor:open', { query: 'Events' })
  });

  if (palette) {
    for (const command of [
      CommandIDs.open,
      ...VIEWER_COMMANDS,
      CommandIDs.openSettings
    ]) {
      palette.addItem({
        command,
        category: trans.__('Events'),
        args: { isPalette: true }
      });
    }
  }

  return tracker;
}

/**
 * What `addViewerCommands` needs.
 */
export interface IViewerCommandsOptions {
  commands: CommandRegistry;
  shell: Pick<JupyterFrontEnd.IShell, 'add' | 'activateById'>;
  palette: ICommandPalette | null;
  trans: TranslationBundle;
  /**
   * The shell area the Viewer opens in: 'main' unless given (see
   * `viewArea`).
   */
  area?: string;
  /**
   * Make a viewer; its "Change these in the settings" link should run
   * `CommandIDs.openSettings`.
   */
  createViewer: () => EventViewer;
}

/**
 * The toolbar items that are not buttons.
 */
interface IToolbarItems {
  filter: SchemaFilter;
  search: EventSearch;
}

/**
 * Fill a viewer panel's toolbar: command buttons, the schema filter, the
 * search box, and the Activity button once its command exists.
 */
function populateToolbar(
  toolbar: Toolbar,
  viewer: EventViewer,
  commands: CommandRegistry
): IToolbarItems {
  const button = (id: string, args: ReadonlyJSONObject = {}) =>
    new CommandToolbarButton({ commands, id, args });
  const filter = new SchemaFilter(viewer);
  const search = new EventSearch(viewer);
  toolbar.addItem('pause', button(CommandIDs.togglePause));
  toolbar.addItem('clear', button(CommandIDs.clear));
  toolbar.addItem('filter', filter);
  toolbar.addItem('search', search);
  toolbar.addItem('spacer', Toolbar.createSpacerItem());
  toolbar.addItem('export', button(CommandIDs.exportEvents));
  toolbar.addItem('settings', button(CommandIDs.openSettings));
  const addActivity = () =>
    toolbar.addItem('activity', button(CommandIDs.openActivity));
  if (commands.hasCommand(CommandIDs.openActivity)) {
    addActivity();
  } else {
    // Its plugin may start after this one.
    const onChanged = (
      _: unknown,
      change: CommandRegistry.ICommandChangedArgs
    ) => {
      if (change.id === CommandIDs.openActivity && change.type === 'added') {
        commands.commandChanged.disconnect(onChanged);
        if (!toolbar.isDisposed) {
          addActivity();
        }
      }
    };
    commands.commandChanged.connect(onChanged);
    viewer.disposed.connect(() =>
      commands.commandChanged.disconnect(onChanged)
    );
  }
  return { filter, search };
}
