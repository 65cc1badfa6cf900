export default async function globalTeardown(): Promise<void> {
  await (globalThis as { stopTestBackends?: () => Promise<void> }).stopTestBackends?.();
}
