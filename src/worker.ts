import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AppOptions } from './app.options';
import { AppConfig } from './core/config/app.config';
import { CONFIG_CLASSES, loadAllConfig } from './core/config/config.module';
import { WorkerHost } from './core/queue/worker-host.service';
import { LogStoreSink } from './core/logging/log-store-sink';
import { createLogger, PinoLoggerService } from './core/logging/logger';
import { LogStore } from './modules/observability/log-store';
import { runProcess } from './process';
import { WorkerModule } from './worker.module';

/** Builds the worker, then starts consuming: only once every module is ready and the job registry checks out. */
export async function startWorker(options: AppOptions = {}): Promise<INestApplicationContext> {
  const env = options.env ?? process.env;
  // Every config problem in one message, before anything connects anywhere.
  const config = loadAllConfig(env, CONFIG_CLASSES.worker).get(AppConfig) as AppConfig;
  const store = new LogStoreSink('worker');
  const logger = createLogger(config.LOG_LEVEL, options.logDestination, store);
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot({ ...options, env }), {
    abortOnError: false,
    logger: new PinoLoggerService(logger),
  });
  app.get(LogStore).attach(store);
  try {
    await app.get(WorkerHost).start();
  } catch (error) {
    // A refused registry must not leave the connections the modules opened holding the process.
    await app.close();
    throw error;
  }
  return app;
}

if (require.main === module) {
  runProcess('worker', () => startWorker());
}
