// `npm run probe`: prints the WebGPU adapter Dawn finds (vendor, architecture, device, description,
// fallback flag), its features and limits, and exits non-zero when there is none.

import { acquireDevice, dawnConfigFromEnv, dawnLoadError } from './dawn.js';

const config = dawnConfigFromEnv();
const acquired = await acquireDevice(config);
if (!acquired) {
  const reason = dawnLoadError();
  console.error(
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- whatever the binding threw when it failed to load, printed as is
    reason ? `probe: Dawn's binding did not load: ${String(reason)}` : 'probe: no WebGPU adapter (see native/setup-software-gpu.sh for a software one)',
  );
  process.exit(1);
}
const { info, features, limits } = acquired;
console.log(JSON.stringify({ adapter: info, dawnOptions: config.options ?? [], featureLevel: config.featureLevel ?? 'core', features, limits }, null, 2));
acquired.release();
