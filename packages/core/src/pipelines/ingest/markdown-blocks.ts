/**
 * One paragraph-level block of a document, with the headings it sits under. The chunker packs
 * blocks into chunks; a change of `headings` starts a new section.
 */
export interface TextBlock {
  /** Heading path from the outermost heading in, e.g. `['Hypertension', 'Targets']`; shared by reference within a section. */
  readonly headings: readonly string[];
  /** The block's text, trimmed; never empty. */
  readonly text: string;
}

const NO_HEADINGS: readonly string[] = Object.freeze([]);
const ATX_HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const SETEXT_UNDERLINE = /^ {0,3}(=+|-+)[ \t]*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const THEMATIC_BREAK = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;

/** Lines of `text` one at a time, without splitting the whole string up front. */
function* lines(text: string): Generator<string> {
  let start = 0;
  while (start <= text.length) {
    const end = text.indexOf('\n', start);
    if (end === -1) {
      if (start < text.length) yield text.slice(start);
      return;
    }
    yield text.slice(start, end);
    start = end + 1;
  }
}

type MarkdownEvent = { readonly heading: { readonly level: number; readonly title: string } } | { readonly block: TextBlock };

/**
 * Splits Markdown into blocks lazily (a generator, so the caller decides when to yield to the
 * event loop). ATX (`## Targets`) and single-line setext headings define the heading path; a
 * heading of level n replaces those of level n and deeper. Paragraphs are separated by blank
 * lines; a fenced code block is one block whatever blank lines it holds. YAML front matter and
 * thematic breaks are dropped; headings are never blocks themselves.
 */
export function* markdownBlocks(text: string): Generator<TextBlock> {
  for (const event of markdownEvents(text)) {
    if ('block' in event) yield event.block;
  }
}

/** The first level-1 heading of a Markdown document, or undefined. Stops reading at it. */
export function firstTopHeading(text: string): string | undefined {
  for (const event of markdownEvents(text)) {
    if ('heading' in event && event.heading.level === 1 && event.heading.title !== '') return event.heading.title;
  }
  return undefined;
}

function* markdownEvents(text: string): Generator<MarkdownEvent> {
  let headings = NO_HEADINGS;
  const levels: number[] = [];
  let paragraph: string[] = [];
  let fence: { marker: string; length: number } | undefined;
  let first = true;
  let inFrontMatter = false;

  const flush = (): MarkdownEvent | undefined => {
    const joined = paragraph.join('\n').trim();
    paragraph = [];
    return joined === '' ? undefined : { block: { headings, text: joined } };
  };
  const enter = (level: number, rawTitle: string): MarkdownEvent => {
    const title = rawTitle.trim();
    while (levels.length > 0 && levels[levels.length - 1]! >= level) levels.pop();
    const kept = headings.slice(0, levels.length);
    levels.push(level);
    headings = Object.freeze([...kept, title]);
    return { heading: { level, title } };
  };

  for (const rawLine of lines(text)) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (first) {
      first = false;
      if (line.trim() === '---') {
        inFrontMatter = true;
        continue;
      }
    }
    if (inFrontMatter) {
      if (line.trim() === '---' || line.trim() === '...') inFrontMatter = false;
      continue;
    }
    if (fence !== undefined) {
      paragraph.push(line);
      const closing = FENCE.exec(line);
      if (closing?.[1] !== undefined && closing[1][0] === fence.marker && closing[1].length >= fence.length && line.trim() === closing[1]) {
        fence = undefined;
        const block = flush();
        if (block !== undefined) yield block;
      }
      continue;
    }
    const opening = FENCE.exec(line);
    if (opening?.[1] !== undefined) {
      const block = flush();
      if (block !== undefined) yield block;
      fence = { marker: opening[1][0]!, length: opening[1].length };
      paragraph.push(line);
      continue;
    }
    const atx = ATX_HEADING.exec(line);
    if (atx?.[1] !== undefined) {
      const block = flush();
      if (block !== undefined) yield block;
      yield enter(atx[1].length, atx[2] ?? '');
      continue;
    }
    const underline = SETEXT_UNDERLINE.exec(line);
    if (underline?.[1] !== undefined && paragraph.length === 1 && paragraph[0]!.trim() !== '') {
      const title = paragraph[0]!;
      paragraph = [];
      yield enter(underline[1][0] === '=' ? 1 : 2, title);
      continue;
    }
    if (line.trim() === '' || THEMATIC_BREAK.test(line)) {
      const block = flush();
      if (block !== undefined) yield block;
      continue;
    }
    paragraph.push(line);
  }
  const last = flush();
  if (last !== undefined) yield last;
}

/** Blocks of plain text: paragraphs separated by blank lines, no headings. */
export function* plainTextBlocks(text: string): Generator<TextBlock> {
  let paragraph: string[] = [];
  for (const rawLine of lines(text)) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line.trim() === '') {
      const joined = paragraph.join('\n').trim();
      paragraph = [];
      if (joined !== '') yield { headings: NO_HEADINGS, text: joined };
    } else {
      paragraph.push(line);
    }
  }
  const joined = paragraph.join('\n').trim();
  if (joined !== '') yield { headings: NO_HEADINGS, text: joined };
}
