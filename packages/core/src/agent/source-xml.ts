import type { PatientRecord } from '../contracts/patient-record.ts';

/** A guideline passage retrieved during a briefing run, under the id the model cites. */
export interface RetrievedSource {
  /** "S1", "S2", ... in the order sources were first retrieved in this run. */
  readonly id: string;
  /** The vector store's point id. */
  readonly pointId: string;
  readonly document: string;
  readonly title: string;
  readonly section: string;
  readonly text: string;
  readonly score: number;
}

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
const XML_UNESCAPES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"' };
/** For attribute values: `&`, `<` and the quote that would end the attribute. */
const escapeAttribute = (text: string): string =>
  text.includes('&') || text.includes('<') || text.includes('"') ? text.replace(/[&<"]/g, (character) => XML_ESCAPES[character]!) : text;
/**
 * For element text: only `&` and `<`, the two characters that could start markup. Quotes and `>`
 * (heading paths such as "Hypertension > Targets") stay as they are, so JSON and prose reach the
 * model unbloated and read back without copying.
 */
const escapeText = (text: string): string =>
  // Most passages hold neither: two character searches are cheaper than a regex pass.
  text.includes('&') || text.includes('<') ? text.replace(/[&<]/g, (character) => XML_ESCAPES[character]!) : text;
const unescapeXml = (text: string): string => (text.includes('&') ? text.replace(/&(amp|lt|gt|quot);/g, (_, name: string) => XML_UNESCAPES[name]!) : text);

/**
 * Search results as the model sees them. Passage text is escaped, so a guideline that contains
 * markup (or "ignore previous instructions") stays inside its element: data, not instructions.
 */
export function formatSources(query: string, sources: readonly RetrievedSource[]): string {
  // One join of every line: a template around a joined body would be a rope that every reader
  // (a model adapter serialising it, a token estimate) flattens into yet another copy.
  const lines = [`<search_results query="${escapeAttribute(query)}">`];
  for (const source of sources) {
    lines.push(
      `<source id="${source.id}" document="${escapeAttribute(source.document)}" title="${escapeAttribute(source.title)}" section="${escapeAttribute(source.section)}" score="${source.score.toFixed(3)}">`,
      escapeText(source.text),
      '</source>',
    );
  }
  if (sources.length === 0) lines.push('');
  lines.push('</search_results>');
  return lines.join('\n');
}

/** Reads back what `formatSources` wrote (for models that work on the text, like the offline one). */
export function parseSources(xml: string): Omit<RetrievedSource, 'pointId'>[] {
  const pattern = /<source id="([^"]*)" document="([^"]*)" title="([^"]*)" section="([^"]*)" score="([^"]*)">\n([\s\S]*?)\n<\/source>/g;
  return [...xml.matchAll(pattern)].map((match) => ({
    id: match[1]!,
    document: unescapeXml(match[2]!),
    title: unescapeXml(match[3]!),
    section: unescapeXml(match[4]!),
    score: Number(match[5]),
    text: unescapeXml(match[6]!),
  }));
}

/** The patient record as the model sees it: JSON inside a tag, escaped, marked as data. */
export function formatPatientRecord(record: PatientRecord): string {
  return `<patient_record id="${escapeAttribute(record.id)}">\n${escapeText(JSON.stringify(record, null, 1))}\n</patient_record>`;
}

/** Reads back what `formatPatientRecord` wrote; undefined when the text holds no record. */
export function parsePatientRecord(text: string): unknown {
  const match = /<patient_record id="[^"]*">\n([\s\S]*?)\n<\/patient_record>/.exec(text);
  return match === null ? undefined : (JSON.parse(unescapeXml(match[1]!)) as unknown);
}
