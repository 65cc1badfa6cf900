import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ApiModule } from './api.module';
import { applyApiPrefix, buildOpenApiDocument } from './http-app';

/**
 * Writes openapi.json from the compiled code (so the Swagger CLI plugin's DTO metadata is in it), or with
 * --check fails when the committed file differs. Preview mode: no provider runs, so no database or Redis.
 */
async function main(): Promise<void> {
  const env = {
    DATABASE_URL: 'postgres://preview/preview',
    REDIS_URL: 'redis://preview',
    JWT_SECRET: 'x'.repeat(32),
  };
  const app = await NestFactory.create<NestExpressApplication>(ApiModule.forRoot({ env }), {
    preview: true,
    logger: false,
    abortOnError: false,
  });
  applyApiPrefix(app);
  const text = `${JSON.stringify(buildOpenApiDocument(app), null, 2)}\n`;
  const file = path.join(__dirname, '..', 'openapi.json');
  if (process.argv.includes('--check')) {
    const committed = readFileSync(file, 'utf8');
    if (committed !== text) {
      console.error('openapi.json is out of date: run `npm run openapi` and commit the result.');
      process.exit(1);
    }
    console.log('openapi.json matches the code');
  } else {
    writeFileSync(file, text);
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  }
  await app.close();
}

void main();
