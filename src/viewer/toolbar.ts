import { Widget } from '@lumino/widgets';

import { shortName } from '../client/schemaName';
import type { EventViewer } from './widget';

/**
 * The Event Viewer's schema filter, a toolbar item: a select of the schemas
 * listed by the server and those seen in events, bound to the viewer's
 * filter both ways (the filter command sets it too).
 */
export class SchemaFilter extends Widget {
  constructor(viewer: EventViewer) {
    super({ node: document.createElement('label') });
    this.addClass('jp-EventViewer-filterLabel');
    this._viewer = viewer;
    const trans = viewer.trans;
    this._select = document.createElement('select');
    this._select.className = 'jp-EventViewer-filter jp-mod-styled';
    this._select.title = trans.__('Show the events of one schema only');
    this._select.append(new Option(trans.__('All schemas'), ''));
    this._select.addEventListener('change', () => {
      viewer.filter = this._select.value || null;
    });
    const text = document.createElement('span');
    text.className = 'jp-EventViewer-filterText';
    text.textContent = trans.__('Schema');
    this.node.append(text, this._select);
    viewer.stateChanged.connect(this._sync, this);
    this._sync();
  }

  /**
   * The select, to focus.
   */
  get select(): HTMLSelectElement {
    return this._select;
  }

  /**
   * Give the select the focus.
   */
  focus(): void {
    this._select.focus();
  }

  private _sync(): void {
    const viewer = this._viewer;
    const ids = new Set([...viewer.schemas.keys(), ...viewer.log.schemaIds]);
    if (viewer.filter) {
      ids.add(viewer.filter);
    }
    if (ids.size !== this._known.size) {
      this._known = ids;
      const options = [...ids]
        .map(id => {
          const option = new Option(shortName(id), id);
          option.title = String(viewer.schemas.get(id)?.schema.title ?? id);
          return option;
        })
        .sort(
          (a, b) =>
            a.text.localeCompare(b.text) || a.value.localeCompare(b.value)
        );
      this._select.replaceChildren(this._select.options[0], ...options);
    }
    this._select.value = viewer.filter ?? '';
  }

  private _known = new Set<string>();
  private _select: HTMLSelectElement;
  private _viewer: EventViewer;
}

/**
 * The Event Viewer's search box, a toolbar item: text looked for in each
 * event's JSON, as typed.
 */
export class EventSearch extends Widget {
  constructor(viewer: EventViewer) {
    super({ node: document.createElement('label') });
    this.addClass('jp-EventViewer-searchLabel');
    const trans = viewer.trans;
    this._input = document.createElement('input');
    this._input.type = 'search';
    this._input.className = 'jp-EventViewer-search jp-mod-styled';
    this._input.placeholder = trans.__('Search events');
    this._input.title = trans.__(
      'Show the events whose JSON contains this text (any field, case aside)'
    );
    this._input.setAttribute('aria-label', trans.__('Search events'));
    this._input.addEventListener('input', () => {
      viewer.query = this._input.value;
    });
    this.node.append(this._input);
    viewer.stateChanged.connect(() => {
      if (this._input.value !== viewer.query) {
        this._input.value = viewer.query;
      }
    });
  }

  /**
   * The input, to focus.
   */
  get input(): HTMLInputElement {
    return this._input;
  }

  /**
   * Give the input the focus.
   */
  focus(): void {
    this._input.focus();
    this._input.select();
  }

  private _input: HTMLInputElement;
}
