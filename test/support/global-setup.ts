import { prepareTestBackends } from './backends';
import { buildForSpawnedProcesses } from './test-build';

/** Once per run: reachable test servers are kept, otherwise embedded ones are started (see backends.ts). */
export default async function globalSetup(): Promise<void> {
  buildForSpawnedProcesses();
  (globalThis as { stopTestBackends?: () => Promise<void> }).stopTestBackends = await prepareTestBackends();
}
