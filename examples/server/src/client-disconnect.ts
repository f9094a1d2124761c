import type { FastifyReply } from 'fastify';

/** Why a request's pipeline was aborted: the client went away before the response finished. */
export class ClientDisconnectedError extends Error {
  override readonly name = 'ClientDisconnectedError';
}

/**
 * A signal that fires when the client disconnects before the response has been fully written
 * (JSON or SSE), so the briefing's upstream calls are aborted instead of running for nobody.
 */
export function disconnectSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  const response = reply.raw;
  const onClose = (): void => {
    if (!response.writableFinished) controller.abort(new ClientDisconnectedError('The client disconnected'));
  };
  response.once('close', onClose);
  reply.request.raw.once('close', () => {
    // A request stream closes once its body is read; only a destroyed socket means the client left.
    if (reply.request.raw.socket?.destroyed === true) onClose();
  });
  return controller.signal;
}

/**
 * Whether `error` is the abort that `disconnectSignal` caused: the client left, so there is no
 * one to answer and nothing went wrong on the server.
 */
export function isClientDisconnect(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'cause' in error && error.cause instanceof ClientDisconnectedError;
}
