/**
 * Vertex AI text-embedding quotas per `predict` request (text-embedding-005,
 * text-multilingual-embedding-002, gemini-embedding-001), as documented by Google.
 */

/** Most texts (instances) one request may carry. */
export const VERTEX_MAX_TEXTS_PER_REQUEST = 250;

/** Most input tokens one request may carry, summed over its texts. */
export const VERTEX_MAX_TOKENS_PER_REQUEST = 20_000;

/**
 * Most tokens of one text the model reads. With `autoTruncate` (the default) a longer text is cut
 * to this length by the API; without it the API rejects the request (INVALID_INPUT).
 */
export const VERTEX_MAX_TOKENS_PER_TEXT = 2_048;

/**
 * Texts one request may carry for `model`: Gemini embedding models (`gemini-embedding-001`)
 * take one text per request, the text-embedding models 250.
 */
export function maxTextsPerRequest(model: string): number {
  return model.startsWith('gemini-embedding') ? 1 : VERTEX_MAX_TEXTS_PER_REQUEST;
}
