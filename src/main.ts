import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ApiModule } from './api.module';
import type { AppOptions } from './app.options';
import { AppConfig } from './core/config/app.config';
import { CONFIG_CLASSES, loadAllConfig } from './core/config/config.module';
import { LogStoreSink } from './core/logging/log-store-sink';
import { createLogger, PinoLoggerService, printAfterLogs } from './core/logging/logger';
import { StartupError } from './core/startup-error';
import { configureHttpApp } from './http-app';
import { LogStore } from './modules/observability/log-store';
import { AdminBootstrap } from './modules/users/admin-bootstrap';
import { runProcess } from './process';

/** Builds the API app without listening (tests and `npm start` reuse it). */
export async function createApiApp(options: AppOptions = {}): Promise<NestExpressApplication> {
  const env = options.env ?? process.env;
  // Every config problem in one message, before anything connects anywhere.
  const config = loadAllConfig(env, CONFIG_CLASSES.api).get(AppConfig) as AppConfig;
  const store = new LogStoreSink('api');
  const logger = createLogger(config.LOG_LEVEL, options.logDestination, store);
  const app = await NestFactory.create<NestExpressApplication>(ApiModule.forRoot({ ...options, env }), {
    bodyParser: false,
    abortOnError: false,
    logger: new PinoLoggerService(logger),
  });
  app.get(LogStore).attach(store);
  configureHttpApp(app, logger);
  return app;
}

export async function startApi(options: AppOptions = {}): Promise<NestExpressApplication> {
  const app = await createApiApp(options);
  const config = app.get(AppConfig);
  try {
    await app.listen(config.PORT, config.HOST);
  } catch (error) {
    await app.close();
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    throw new StartupError(
      `PORT ${config.PORT} on ${config.HOST} is already in use (an earlier Conflux still running?): ` +
        'stop that process, or set PORT to a free port',
    );
  }
  return app;
}

/** What a person starting Conflux needs, printed after the boot lines: where it is and, once, the admin. */
export async function startupBanner(api: NestExpressApplication, title: string): Promise<string> {
  const url = (await api.getUrl()).replace(/\[::1?\]|0\.0\.0\.0|127\.0\.0\.1/, 'localhost');
  const lines = [
    '',
    title,
    `  API:        ${url}/api/v1`,
    `  Swagger UI: ${url}/docs`,
    `  Health:     ${url}/health`,
  ];
  const admin = api.get(AdminBootstrap).generated;
  if (admin) {
    lines.push(
      '',
      `  Platform admin: ${admin.email}`,
      `  Password:       ${admin.password}`,
      '  (shown once; set ADMIN_PASSWORD to choose it)',
    );
  }
  return `${lines.join('\n')}\n`;
}

if (require.main === module) {
  runProcess('api', async () => {
    const app = await startApi();
    printAfterLogs(await startupBanner(app, 'Conflux API is running'));
    return app;
  });
}
