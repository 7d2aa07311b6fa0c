// What every router of the service receives: configuration, the store, the lifecycle and the logger.

import type { ExecutorLifecycle, Logger } from '../koa/index.js';
import type { ServiceConfig } from './config.js';
import type { BillingStore } from './store.js';

export interface ServiceContext {
  readonly config: ServiceConfig;
  readonly store: BillingStore;
  readonly lifecycle: ExecutorLifecycle;
  readonly logger: Logger;
}
