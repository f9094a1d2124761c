import { setImmediate as nextTurn } from 'node:timers/promises';
import { estimateTokens } from '../../contracts/estimate-tokens.ts';
import { expectInteger, invalidOption } from '../../errors/validate-option.ts';
import { throwIfAborted } from '../../executor/abort.ts';
import { markdownBlocks, plainTextBlocks, type TextBlock } from './markdown-blocks.ts';
import { contentHash } from './point-id.ts';
import type { SourceDocument } from './source-document.ts';

/** How documents are cut into chunks. Tokens are counted with `estimateTokens`. */
export interface ChunkingOptions {
  /**
   * Most tokens in one chunk's text, its context line included. Every chunk respects it: a
   * paragraph over it is split on sentences, a sentence over it on lines, then on words.
   * @default 512 (or the embedder's `maxTokensPerBatch`, when lower)
   */
  readonly maxTokens: number;
  /**
   * Tokens of trailing context (whole sentences when they fit, else words) carried from a chunk
   * into the next chunk of the same section, so a statement cut at a boundary keeps its lead-in.
   * At most half of `maxTokens`.
   * @default Math.floor(maxTokens / 8)
   */
  readonly overlapTokens: number;
}

/** One chunk, with the metadata stored in its point's payload. */
export interface DocumentChunk {
  readonly source: string;
  readonly title: string;
  /** Heading path, outermost first (`Hypertension > Targets`); empty outside any heading and for PDFs and plain text. */
  readonly section: string;
  /** 1-based PDF page; undefined for other formats. */
  readonly page: number | undefined;
  /** Position in the document, from 0. */
  readonly index: number;
  /**
   * What is embedded and stored: a context line (the section path, else the title), a blank
   * line, then the chunk's own text.
   */
  readonly text: string;
  /** `estimateTokens(text)`, at most `maxTokens`. */
  readonly tokens: number;
  /** SHA-256 of `text`, hex. */
  readonly contentHash: string;
}

/** Smallest `maxTokens` accepted: a context line and a few words must fit. */
const MIN_MAX_TOKENS = 16;

/** Throws a `TypeError` naming the first invalid option (p-queue style). */
export function validateChunkingOptions(options: ChunkingOptions, prefix = 'chunking.'): void {
  expectInteger(`${prefix}maxTokens`, options.maxTokens, MIN_MAX_TOKENS);
  expectInteger(`${prefix}overlapTokens`, options.overlapTokens, 0);
  if (options.overlapTokens > options.maxTokens / 2) {
    throw invalidOption(`${prefix}overlapTokens`, `at most half of maxTokens (${Math.floor(options.maxTokens / 2)})`, options.overlapTokens);
  }
}

/** A block with the page it came from (PDFs). */
interface PagedBlock extends TextBlock {
  readonly page: number | undefined;
}

/** A chunk before hashing: what the packing loop produces. */
interface ChunkDraft {
  readonly text: string;
  readonly tokens: number;
  readonly section: string;
  readonly page: number | undefined;
}

/** A piece of text to pack, and what joins it to the piece before it in the same chunk. */
interface Unit {
  readonly text: string;
  readonly joiner: string;
}

// Sentence ends: terminal punctuation (maybe closed by quotes or brackets), then whitespace.
const SENTENCE_BREAK = /(?<=[.!?;]["'\u2019\u201d)\]]*)\s+/g;
const LINE_BREAK = /\n+/g;
const WORD_BREAK = /\s+/g;
/** Split levels for text over the limit, coarsest first, with the joiner that restores each. */
const SPLIT_LEVELS: readonly { readonly pattern: RegExp; readonly joiner: string }[] = [
  { pattern: SENTENCE_BREAK, joiner: ' ' },
  { pattern: LINE_BREAK, joiner: '\n' },
  { pattern: WORD_BREAK, joiner: ' ' },
];
/** A context line longer than this share of `maxTokens` is cut down. */
const CONTEXT_SHARE = 0.25;
/** Chunking gives the event loop a turn after this much synchronous work. */
const SLICE_MS = 8;

/**
 * Cuts a document into chunks (see `ChunkingOptions`). Markdown headings define sections; a
 * chunk never spans two sections (or two PDF pages); paragraphs are packed whole while they fit.
 *
 * The work is time-sliced: after every few milliseconds of CPU it yields to the event loop (and
 * checks `signal`), so chunking a large document never holds the loop for long.
 */
export async function chunkDocument(document: SourceDocument, options: ChunkingOptions, signal?: AbortSignal): Promise<DocumentChunk[]> {
  const chunks: DocumentChunk[] = [];
  let sliceStart = performance.now();
  for (const draft of chunkBlocks(documentBlocks(document), document.title, options)) {
    chunks.push({
      source: document.source,
      title: document.title,
      section: draft.section,
      page: draft.page,
      index: chunks.length,
      text: draft.text,
      tokens: draft.tokens,
      contentHash: contentHash(draft.text),
    });
    if (performance.now() - sliceStart > SLICE_MS) {
      await nextTurn();
      throwIfAborted(signal);
      sliceStart = performance.now();
    }
  }
  return chunks;
}

function* documentBlocks(document: SourceDocument): Generator<PagedBlock> {
  if (document.format === 'pdf') {
    for (let index = 0; index < document.pages.length; index++) {
      for (const block of plainTextBlocks(document.pages[index]!)) yield { ...block, page: index + 1 };
    }
    return;
  }
  const blocks = document.format === 'markdown' ? markdownBlocks(document.text) : plainTextBlocks(document.text);
  for (const block of blocks) yield { ...block, page: undefined };
}

/**
 * The packing loop. Within a section, units are appended while the chunk (context line
 * included) stays within `maxTokens`; when one does not fit, the chunk is emitted and the next
 * starts with the overlap (dropped if it leaves no room for the unit). Units never exceed the
 * limit on their own, so every chunk fits.
 */
export function* chunkBlocks(blocks: Iterable<PagedBlock>, title: string, options: ChunkingOptions): Generator<ChunkDraft> {
  const { maxTokens, overlapTokens } = options;
  let headings: readonly string[] | undefined;
  let page: number | undefined;
  let section = '';
  let context = '';
  let body = '';
  let hasNew = false;

  const compose = (text: string): string => (context === '' ? text : `${context}\n\n${text}`);
  const fits = (text: string): boolean => Math.ceil(text.length / 3) < maxTokens && estimateTokens(compose(text)) <= maxTokens;
  const draft = (): ChunkDraft => {
    const text = compose(body);
    return { text, tokens: estimateTokens(text), section, page };
  };

  for (const block of blocks) {
    if (block.headings !== headings || block.page !== page) {
      if (hasNew) yield draft();
      headings = block.headings;
      page = block.page;
      section = block.headings.join(' > ');
      context = contextLine(section === '' ? title : section, maxTokens);
      body = '';
      hasNew = false;
    }
    for (const unit of units(block.text, fits)) {
      if (body !== '') {
        const joined = body + unit.joiner + unit.text;
        if (fits(joined)) {
          body = joined;
          hasNew = true;
          continue;
        }
        if (hasNew) {
          yield draft();
          body = overlapTokens === 0 ? '' : trailingContext(body, overlapTokens);
          hasNew = false;
          if (body !== '') {
            const withOverlap = body + unit.joiner + unit.text;
            if (fits(withOverlap)) {
              body = withOverlap;
              hasNew = true;
              continue;
            }
          }
        }
      }
      body = unit.text;
      hasNew = true;
    }
  }
  if (hasNew) yield draft();
}

/** A block as one unit when it fits, else its pieces at the coarsest split level that fits. */
function* units(text: string, fits: (text: string) => boolean): Generator<Unit> {
  if (fits(text)) {
    yield { text, joiner: '\n\n' };
    return;
  }
  yield* splitToFit(text, 0, '\n\n', fits);
}

function* splitToFit(text: string, level: number, firstJoiner: string, fits: (text: string) => boolean): Generator<Unit> {
  const split = SPLIT_LEVELS[level];
  if (split === undefined) {
    yield* sliceToFit(text, firstJoiner, fits);
    return;
  }
  let joiner = firstJoiner;
  for (const piece of pieces(text, split.pattern)) {
    if (fits(piece)) yield { text: piece, joiner };
    else yield* splitToFit(piece, level + 1, joiner, fits);
    joiner = split.joiner;
  }
}

/** Last resort for a "word" over the limit (a pasted blob): fixed-size character slices. */
function* sliceToFit(text: string, firstJoiner: string, fits: (text: string) => boolean): Generator<Unit> {
  let size = text.length;
  let start = 0;
  let joiner = firstJoiner;
  while (start < text.length) {
    size = Math.min(size, text.length - start);
    while (size > 1 && !fits(text.slice(start, start + size))) size = Math.max(1, Math.floor(size * 0.9));
    yield { text: text.slice(start, start + size), joiner };
    joiner = '';
    start += size;
  }
}

/** Non-empty pieces of `text` between matches of the global `pattern`, produced lazily. */
function* pieces(text: string, pattern: RegExp): Generator<string> {
  const regex = new RegExp(pattern.source, 'g');
  let start = 0;
  for (let match = regex.exec(text); match !== null; match = regex.exec(text)) {
    if (match[0].length === 0) {
      regex.lastIndex++;
      continue;
    }
    const piece = text.slice(start, match.index);
    if (piece !== '') yield piece;
    start = match.index + match[0].length;
  }
  const rest = text.slice(start);
  if (rest !== '') yield rest;
}

/**
 * The longest proper suffix of `body` within `overlapTokens`, starting at a sentence or line
 * when one fits, else at a word; empty when not even the last word fits.
 */
export function trailingContext(body: string, overlapTokens: number): string {
  const fitsOverlap = (start: number): boolean => estimateTokens(body.slice(start)) <= overlapTokens;
  for (const pattern of [/(?<=[.!?;]["'\u2019\u201d)\]]*)\s+|\n+/g, WORD_BREAK]) {
    const starts: number[] = [];
    const regex = new RegExp(pattern.source, 'g');
    for (let match = regex.exec(body); match !== null; match = regex.exec(body)) {
      if (match[0].length === 0) {
        regex.lastIndex++;
        continue;
      }
      const start = match.index + match[0].length;
      if (start < body.length) starts.push(start);
    }
    let best: number | undefined;
    for (let index = starts.length - 1; index >= 0; index--) {
      if (!fitsOverlap(starts[index]!)) break;
      best = starts[index];
    }
    if (best !== undefined) return body.slice(best);
  }
  return '';
}

/** The context line, cut to a quarter of the budget (keeping the innermost headings) when longer. */
function contextLine(line: string, maxTokens: number): string {
  const budget = Math.max(1, Math.floor(maxTokens * CONTEXT_SHARE));
  if (estimateTokens(line) <= budget) return line;
  const parts = line.split(' > ');
  while (parts.length > 1) {
    parts.shift();
    const shorter = parts.join(' > ');
    if (estimateTokens(shorter) <= budget) return shorter;
  }
  let cut = parts[0] ?? '';
  while (cut !== '' && estimateTokens(cut) > budget) cut = cut.slice(0, Math.floor(cut.length * 0.8));
  return cut.trimEnd();
}

/** The chunking defaults for a token budget (the embedder's, when it has one). */
export function defaultChunkingOptions(maxTokensPerBatch: number | undefined): ChunkingOptions {
  const maxTokens = Math.min(512, maxTokensPerBatch ?? Infinity);
  return { maxTokens, overlapTokens: Math.floor(maxTokens / 8) };
}
