import type { INestApplicationContext } from '@nestjs/common';
import { ConfigError } from './core/config/config.loader';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Runs a process's apps until SIGTERM/SIGINT, then closes them (workers let active jobs finish) and exits.
 * A bad configuration stops the process with the message naming each variable.
 */
export function runProcess(
  name: string,
  start: () => Promise<INestApplicationContext | INestApplicationContext[]>,
  onStopped: () => Promise<void> = async () => undefined,
): void {
  start()
    .then((started) => {
      const apps = Array.isArray(started) ? started : [started];
      let stopping = false;
      for (const signal of SIGNALS) {
        process.on(signal, () => {
          if (stopping) return;
          stopping = true;
          void Promise.allSettled(apps.map((app) => app.close()))
            .then(onStopped)
            .finally(() => process.exit(0));
        });
      }
    })
    .catch(async (error: unknown) => {
      console.error(error instanceof ConfigError ? error.message : error);
      console.error(`conflux ${name}: failed to start`);
      await onStopped().catch(() => undefined);
      process.exit(1);
    });
}
