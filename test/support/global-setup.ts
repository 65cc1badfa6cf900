import { prepareTestBackends } from './backends';

/** Once per run: reachable test servers are kept, otherwise embedded ones are started (see backends.ts). */
export default async function globalSetup(): Promise<void> {
  (globalThis as { stopTestBackends?: () => Promise<void> }).stopTestBackends = await prepareTestBackends();
}
