// The briefing server: `npm run server`. Configuration comes from environment variables (see
// examples/config); SIGTERM or SIGINT drains in-flight briefings, then exits.
import { definePools } from '@aidoc/core';
import { ConfigError, loadConfig, poolSizes, type AppConfig } from '@aidoc/example-config';
import { buildServer } from './build-server.ts';
import { shutdown } from './shutdown.ts';

/** How long in-flight briefings may finish after a stop signal. */
const DRAIN_MS = 10_000;

let config: AppConfig;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

definePools(poolSizes(config));
const server = await buildServer({ config });
await server.listen({ host: config.HOST, port: config.PORT });
const address = server.server.address();
const port = typeof address === 'object' && address !== null ? address.port : config.PORT;
const host = config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST;
console.log(`Briefing server on http://${host}:${port}/${config.AIDOC_API_KEY === undefined ? '' : ' (API key required)'}`);

let stopping = false;
const stop = (signal: NodeJS.Signals): void => {
  if (stopping) {
    // A second signal: the operator does not want to wait.
    process.exit(1);
  }
  stopping = true;
  server.log.info({ signal }, 'shutting down');
  shutdown(server, { drainMs: DRAIN_MS }).then(
    (aborted) => {
      server.log.info({ aborted }, 'stopped');
      process.exit(0);
    },
    (error: unknown) => {
      server.log.error({ code: error instanceof Error ? error.name : 'unknown' }, 'shutdown failed');
      process.exit(1);
    },
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
