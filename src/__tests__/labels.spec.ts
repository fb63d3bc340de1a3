import {
  nullTranslator,
  type TranslationBundle
} from '@jupyterlab/translation';

import { KINDS } from '../settings/config';
import { kindLabels } from '../settings/labels';

describe('kindLabels', () => {
  const labels = kindLabels(nullTranslator.load('jupyter_events_ext'));

  it.each([...KINDS])('names %s in both forms', kind => {
    expect(labels[kind]).toEqual({
      short: expect.stringMatching(/\S/),
      long: expect.stringMatching(/\S/)
    });
  });

  it('names the kinds of the settings, no other', () => {
    expect(Object.keys(labels).sort()).toEqual([...KINDS].sort());
  });

  it('names each kind apart from the others', () => {
    const shorts = KINDS.map(kind => labels[kind].short);
    const longs = KINDS.map(kind => labels[kind].long);
    expect(new Set(shorts).size).toBe(KINDS.length);
    expect(new Set(longs).size).toBe(KINDS.length);
  });

  it('says every name through the translator', () => {
    const marked = {
      __: (text: string) => `«${text}»`
    } as unknown as TranslationBundle;
    for (const { short, long } of Object.values(kindLabels(marked))) {
      expect(short).toMatch(/^«.+»$/);
      expect(long).toMatch(/^«.+»$/);
    }
  });
});
