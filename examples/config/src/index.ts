export { ConfigError, DEFAULT_DATA_DIRECTORY, loadConfig, type AppConfig } from './app-config.ts';
export { createAdapters, poolSizes, type Adapters } from './adapters.ts';
