// Shared by the tests: the real Vertex client, over plain HTTP, against the loopback server, with
// no credentials (PassThroughClient adds no Authorization header).
import { PassThroughClient } from 'google-auth-library';
import type { VertexLoopbackRequest, VertexLoopbackServer } from '@aidoc/loopback-servers';
import { createVertexEmbedder, type VertexEmbedder, type VertexEmbedderSettings } from '../../src/index.ts';

export const LOCATION = 'us-central1';

/** An embedder for `project` whose client talks to `server`. */
export function loopbackEmbedder(server: VertexLoopbackServer, project: string, settings: VertexEmbedderSettings = {}): VertexEmbedder {
  const { apiEndpoint, ...transport } = server.clientOptions;
  return createVertexEmbedder({
    project,
    location: LOCATION,
    apiEndpoint,
    clientOptions: { ...transport, authClient: new PassThroughClient() },
    ...settings,
  });
}

/** The requests `server` received for `project`. */
export function requestsFor(server: VertexLoopbackServer, project: string): VertexLoopbackRequest[] {
  return server.requests.filter((request) => request.project === project);
}

/** A never-aborted signal, for calls that need one. */
export const live = (): AbortSignal => new AbortController().signal;
