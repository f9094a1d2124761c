import { describe, expect, it } from 'vitest';
import { formatSources, parseSources, type RetrievedSource } from '../src/index.ts';

const source = (id: string, text: string): RetrievedSource => ({
  id,
  pointId: `point-${id}`,
  document: 'ckd & dosing.md',
  title: 'Drug dosing',
  section: 'Metformin > eGFR "30–44"',
  text,
  score: 0.8125,
});

describe('formatSources', () => {
  it('writes each source as an element with escaped attributes and text, in order', () => {
    expect(formatSources('metformin <egfr>', [source('S1', 'Halve the dose & recheck in 3 months.'), source('S2', 'Stop when eGFR < 30.')])).toBe(
      [
        '<search_results query="metformin &lt;egfr>">',
        '<source id="S1" document="ckd &amp; dosing.md" title="Drug dosing" section="Metformin > eGFR &quot;30–44&quot;" score="0.813">',
        'Halve the dose &amp; recheck in 3 months.',
        '</source>',
        '<source id="S2" document="ckd &amp; dosing.md" title="Drug dosing" section="Metformin > eGFR &quot;30–44&quot;" score="0.813">',
        'Stop when eGFR &lt; 30.',
        '</source>',
        '</search_results>',
      ].join('\n'),
    );
  });

  it('writes an empty result with an empty line for its body', () => {
    expect(formatSources('nothing', [])).toBe('<search_results query="nothing">\n\n</search_results>');
  });

  it('reads back what it wrote', () => {
    const sources = [source('S1', 'Line one.\n\nLine <two> & "three".'), source('S7', 'x')];
    expect(parseSources(formatSources('q', sources))).toEqual(sources.map(({ pointId: _pointId, ...rest }) => ({ ...rest, score: 0.813 })));
  });
});
