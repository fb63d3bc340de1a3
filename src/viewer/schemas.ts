import type { TranslationBundle } from '@jupyterlab/translation';

import { shortName } from '../client/schemaName';
import type { IEventsClient } from '../tokens';
import { element } from './dom';

/**
 * "What each event holds": a card per schema a browser may send (those of
 * the capture), with its title, version, id, description and fields.
 */
export class SchemaCards {
  constructor(private readonly _trans: TranslationBundle) {}

  readonly node = element('div', 'jp-EventViewer-schemaCards');

  /**
   * Show the cards of the schemas a browser may send, by name and version.
   */
  show(schemas: ReadonlyArray<IEventsClient.ISchema>): void {
    const cards = schemas
      .filter(schema => schema.client)
      .sort(
        (a, b) =>
          shortName(a.id).localeCompare(shortName(b.id)) ||
          String(a.version).localeCompare(String(b.version))
      );
    if (!cards.length) {
      return;
    }
    const heading = element('h3', 'jp-EventViewer-subheading');
    heading.textContent = this._trans.__('What each event holds');
    this.node.append(heading, ...cards.map(Private.card));
  }

  /**
   * Say that the schemas could not be listed.
   */
  showError(reason: unknown): void {
    const note = element('p', 'jp-EventViewer-note');
    note.textContent = this._trans.__(
      'The schemas could not be listed: %1',
      String(reason)
    );
    this.node.append(note);
  }
}

namespace Private {
  /**
   * A schema's card.
   */
  export function card(schema: IEventsClient.ISchema): HTMLElement {
    const card = element('details', 'jp-EventViewer-schemaCard');
    card.dataset.schema = schema.id;
    const summary = element('summary', 'jp-EventViewer-schemaTitle');
    const title = element('span', 'jp-EventViewer-schemaName');
    title.textContent = String(schema.schema.title ?? shortName(schema.id));
    const version = element('span', 'jp-EventViewer-version');
    version.textContent = `v${schema.version}`;
    summary.append(title, version);
    card.append(summary);
    const id = element('code', 'jp-EventViewer-schemaId');
    id.textContent = schema.id;
    card.append(id);
    if (typeof schema.schema.description === 'string') {
      const description = element('p', 'jp-EventViewer-description');
      description.textContent = schema.schema.description;
      card.append(description);
    }
    const properties = schema.schema.properties as
      Record<string, { description?: string }> | undefined;
    if (properties && typeof properties === 'object') {
      const fields = element('dl', 'jp-EventViewer-fields');
      for (const [name, property] of Object.entries(properties)) {
        const term = element('dt', 'jp-EventViewer-field');
        term.textContent = name;
        const definition = element('dd', 'jp-EventViewer-fieldDescription');
        definition.textContent = property?.description ?? '';
        fields.append(term, definition);
      }
      card.append(fields);
    }
    return card;
  }
}
