// Reads the MedQuAD subset in ../shared/data/medquad (CC BY 4.0; read in place, never copied
// into the repository) and turns it into a retrieval evaluation set: every distinct answer is a
// document, every distinct question a query whose relevant documents are the answers it was
// paired with.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** Where the corpus lives: `MEDQUAD_DIR`, else `../shared/data/medquad` beside the repository. */
export const DEFAULT_MEDQUAD_DIRECTORY = process.env.MEDQUAD_DIR ?? path.resolve(import.meta.dirname, '../../../shared/data/medquad');

export interface MedquadPair {
  /** The XML file, relative to the corpus directory, e.g. `5_NIDDK_QA/0000001.xml`. */
  readonly file: string;
  readonly question: string;
  readonly answer: string;
}

export interface RetrievalSet {
  /** Distinct answers, in corpus order. */
  readonly documents: readonly string[];
  /** Distinct questions, in corpus order. */
  readonly queries: readonly string[];
  /** `relevant[i]`: indexes into `documents` of the answers paired with `queries[i]`. */
  readonly relevant: readonly (readonly number[])[];
  /** How many QA pairs and XML files the set was built from. */
  readonly pairCount: number;
  readonly fileCount: number;
}

/** Which files of the corpus to use: all of them, or one of two halves (alternate files in path order). */
export type MedquadSplit = 'all' | 'even' | 'odd';

const PAIR = /<QAPair\b[^>]*>\s*<Question\b[^>]*>([\s\S]*?)<\/Question>\s*<Answer>([\s\S]*?)<\/Answer>/g;

/** Every QA pair of the corpus with a non-empty question and answer, in file path order. */
export async function loadMedquadPairs(directory = DEFAULT_MEDQUAD_DIRECTORY, split: MedquadSplit = 'all'): Promise<{ pairs: MedquadPair[]; fileCount: number }> {
  const files: string[] = [];
  for (const entry of (await readdir(directory, { withFileTypes: true })).filter((item) => item.isDirectory())) {
    for (const name of await readdir(path.join(directory, entry.name))) {
      if (name.endsWith('.xml')) files.push(`${entry.name}/${name}`);
    }
  }
  files.sort();
  const chosen = files.filter((_, index) => split === 'all' || index % 2 === (split === 'even' ? 0 : 1));
  const pairs: MedquadPair[] = [];
  const contents = await Promise.all(chosen.map((file) => readFile(path.join(directory, file), 'utf8')));
  chosen.forEach((file, index) => {
    for (const match of contents[index]!.matchAll(PAIR)) {
      const question = cleanText(match[1]!);
      const answer = cleanText(match[2]!);
      if (question.length > 0 && answer.length > 0) pairs.push({ file, question, answer });
    }
  });
  return { pairs, fileCount: chosen.length };
}

/** Deduplicates answers and questions; an exact duplicate question is relevant to every answer it was paired with. */
export function buildRetrievalSet(pairs: readonly MedquadPair[], fileCount: number): RetrievalSet {
  const documentIndex = new Map<string, number>();
  const queryIndex = new Map<string, number>();
  const relevant: Set<number>[] = [];
  for (const { question, answer } of pairs) {
    let documentId = documentIndex.get(answer);
    if (documentId === undefined) documentIndex.set(answer, (documentId = documentIndex.size));
    let queryId = queryIndex.get(question);
    if (queryId === undefined) {
      queryIndex.set(question, (queryId = queryIndex.size));
      relevant.push(new Set());
    }
    relevant[queryId]!.add(documentId);
  }
  return {
    documents: [...documentIndex.keys()],
    queries: [...queryIndex.keys()],
    relevant: relevant.map((set) => [...set]),
    pairCount: pairs.length,
    fileCount,
  };
}

export async function loadRetrievalSet(split: MedquadSplit = 'all', directory = DEFAULT_MEDQUAD_DIRECTORY): Promise<RetrievalSet> {
  const { pairs, fileCount } = await loadMedquadPairs(directory, split);
  return buildRetrievalSet(pairs, fileCount);
}

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function cleanText(xml: string): string {
  return xml
    .replace(/&(?:#(\d+)|#x([\da-f]+)|(\w+));/gi, (entity, decimal?: string, hex?: string, name?: string) => {
      if (decimal !== undefined) return String.fromCodePoint(Number(decimal));
      if (hex !== undefined) return String.fromCodePoint(Number.parseInt(hex, 16));
      return ENTITIES[name!.toLowerCase()] ?? entity;
    })
    .replace(/\s+/g, ' ')
    .trim();
}
