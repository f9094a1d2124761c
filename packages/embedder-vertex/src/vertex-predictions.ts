import { AidocError } from '@aidoc/core';
import { helpers, type protos } from '@google-cloud/aiplatform';

type PredictResponse = protos.google.cloud.aiplatform.v1.IPredictResponse;

/**
 * Reads the vectors out of a `predict` response (`predictions[i]` is a protobuf `Value` holding
 * `{ embeddings: { values, statistics } }`), checking there is one per text, each of `dimensions`
 * finite numbers. Anything else is INVALID_OUTPUT: the API or a proxy broke its contract, and a
 * short or misaligned result would silently attach vectors to the wrong texts.
 */
export function readEmbeddings(response: PredictResponse | null | undefined, count: number, dimensions: number, model: string): Float32Array[] {
  const predictions = response?.predictions;
  if (!Array.isArray(predictions) || predictions.length !== count) {
    throw invalidOutput(`Vertex AI returned ${Array.isArray(predictions) ? predictions.length : 'no'} prediction(s) for ${count} text(s)`, model);
  }
  return predictions.map((prediction, index) => {
    let values: unknown;
    try {
      // The generated types (`protos.google.protobuf.IValue`) and the helper's (protobufjs'
      // `common.IValue`) describe the same message but disagree on `nullValue`.
      const decoded = helpers.fromValue(prediction as Parameters<typeof helpers.fromValue>[0]) as { embeddings?: { values?: unknown } } | null | undefined;
      values = decoded?.embeddings?.values;
    } catch (error) {
      throw invalidOutput(`Vertex AI prediction ${index} is not a protobuf Value`, model, error);
    }
    if (!Array.isArray(values)) throw invalidOutput(`Vertex AI prediction ${index} has no embeddings.values`, model);
    if (values.length !== dimensions) {
      throw invalidOutput(`Vertex AI prediction ${index} has ${values.length} values, expected ${dimensions} (outputDimensionality)`, model);
    }
    const vector = new Float32Array(dimensions);
    for (let position = 0; position < dimensions; position++) {
      const value: unknown = values[position];
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw invalidOutput(`Vertex AI prediction ${index} holds a non-number at position ${position}`, model);
      }
      vector[position] = value;
    }
    return vector;
  });
}

function invalidOutput(message: string, model: string, cause?: unknown): AidocError {
  return new AidocError('INVALID_OUTPUT', message, { cause, details: { provider: 'vertex', model } });
}
