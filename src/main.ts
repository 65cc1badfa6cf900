import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ApiModule } from './api.module';
import type { AppOptions } from './app.options';
import { AppConfig } from './core/config/app.config';
import { loadConfig } from './core/config/config.loader';
import { createLogger, PinoLoggerService } from './core/logging/logger';
import { configureHttpApp } from './http-app';
import { runProcess } from './process';

/** Builds the API app without listening (tests and `npm start` reuse it). */
export async function createApiApp(options: AppOptions = {}): Promise<NestExpressApplication> {
  const env = options.env ?? process.env;
  const logger = createLogger(loadConfig(AppConfig, env).LOG_LEVEL);
  const app = await NestFactory.create<NestExpressApplication>(ApiModule.forRoot({ ...options, env }), {
    bodyParser: false,
    abortOnError: false,
    logger: new PinoLoggerService(logger),
  });
  configureHttpApp(app, logger);
  return app;
}

export async function startApi(options: AppOptions = {}): Promise<NestExpressApplication> {
  const app = await createApiApp(options);
  const config = app.get(AppConfig);
  await app.listen(config.PORT, config.HOST);
  return app;
}

if (require.main === module) {
  runProcess('api', async () => {
    const app = await startApi();
    const url = (await app.getUrl()).replace('[::1]', 'localhost').replace('0.0.0.0', 'localhost');
    console.log(`Conflux API listening on ${url}\n  Swagger UI: ${url}/docs`);
    return app;
  });
}
