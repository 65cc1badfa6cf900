import type { INestApplicationContext } from '@nestjs/common';
import { StartupError } from './core/startup-error';

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

/**
 * Runs a process's apps until SIGTERM/SIGINT/SIGHUP, then closes them (workers let active jobs finish), runs
 * `onStopped` (for what the process started besides its apps) and exits. A signal during start-up stops the
 * process once start-up settles; a second signal exits at once. A reason the process cannot start (bad
 * configuration, a port in use) is printed as its message alone.
 */
export function runProcess(
  name: string,
  start: () => Promise<INestApplicationContext | INestApplicationContext[]>,
  onStopped: () => Promise<void> = async () => undefined,
): void {
  let apps: INestApplicationContext[] | undefined;
  let signalled = false;
  let stopping = false;
  const stop = () => {
    stopping = true;
    void Promise.allSettled((apps ?? []).map((app) => app.close()))
      .then(onStopped)
      .catch((error: unknown) => console.error(error))
      .finally(() => process.exit(0));
  };
  for (const signal of SIGNALS) {
    process.on(signal, () => {
      if (signalled) {
        console.error(`conflux ${name}: ${signal} again, exiting without waiting`);
        process.exit(1);
      }
      signalled = true;
      if (apps) stop();
    });
  }
  start()
    .then((started) => {
      apps = Array.isArray(started) ? started : [started];
      if (signalled && !stopping) stop();
    })
    .catch(async (error: unknown) => {
      console.error(error instanceof StartupError ? error.message : error);
      console.error(`conflux ${name}: failed to start`);
      await onStopped().catch(() => undefined);
      process.exit(1);
    });
}
