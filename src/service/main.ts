// `npm start`: the billing-ingest service. Configuration comes from the environment (see config.ts and the
// README); SIGTERM or SIGINT drains requests and background writes before the process exits.

import { createService } from './app.js';
import { ConfigError, loadConfig } from './config.js';

try {
  const config = loadConfig();
  const service = await createService(config);
  await service.listen();
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
