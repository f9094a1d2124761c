// Run as a child process by anthropic-errors.test.ts with the URL of a loopback server whose
// stream carries an unparsable chunk: whatever the SDK logs about it reaches this process's
// stdout/stderr, where the test reads it. Exit code 0 when the call failed INVALID_OUTPUT.
import { createAnthropicModel } from '../../src/index.ts';

const [baseURL, apiKey] = process.argv.slice(2);
if (baseURL === undefined || apiKey === undefined) throw new Error('usage: anthropic-log-probe.ts <baseURL> <apiKey>');
const model = createAnthropicModel({ apiKey, baseURL, stream: true });
const outcome = await model.generate({ system: 's', messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }], tools: [] }).then(
  () => 'resolved',
  (error: unknown) => (error as { code?: string }).code ?? 'unknown',
);
process.exitCode = outcome === 'INVALID_OUTPUT' ? 0 : 3;
