import type { INestApplication } from '@nestjs/common';
import { RequestMethod } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { AppConfig } from './core/config/app.config';
import { answerClientErrorsInEnvelope } from './core/http/client-error';
import { jsonBody } from './core/http/json-body';
import { assignRequestId, enterRequestContext } from './core/http/request-id';
import { requestLogging } from './core/logging/request-log';
import { httpMetrics } from './modules/observability/http-metrics.middleware';
import { mountQueueBoard } from './modules/observability/queue-board';
import { MetricsService } from './core/metrics/metrics.service';
import { RealtimeConfig } from './core/config/realtime.config';
import { ConfluxWsAdapter } from './modules/realtime/ws-adapter';
import { SIGNED_OBJECT_ROUTE } from './modules/storage/url-signer';
import { version } from './version';

export const API_PREFIX = 'api/v1';
const KEEP_ALIVE_MS = 65_000;
const UNPREFIXED = [
  { path: 'health', method: RequestMethod.GET },
  { path: 'metrics', method: RequestMethod.GET },
  // Launchpad gateway aliases (`/api/storage/buckets`, `/api/data/query`, ...): controllers whose path starts
  // with `api/` sit outside /api/v1.
  { path: 'api/{*alias}', method: RequestMethod.ALL },
];

/** Everything HTTP that sits outside Nest's module graph, in the order requests meet it. */
export function configureHttpApp(app: NestExpressApplication, logger: Logger): void {
  const config = app.get(AppConfig);
  app.disable('x-powered-by');
  const server = app.getHttpServer();
  answerClientErrorsInEnvelope(server);
  // Idle keep-alive connections stay open longer than load balancers (60 s is common) and client pools keep
  // them, so the client side always closes one first. With Node's 5 s, a client reusing a socket just as the
  // server closed it got ECONNRESET, and a proxy in front answered 502.
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  app.set('trust proxy', 'loopback');
  app.use(assignRequestId);
  app.use(requestLogging(logger));
  app.use(httpMetrics(app.get(MetricsService)));
  // Without upgrade-insecure-requests: Swagger UI served over plain http on a non-localhost host (docker compose,
  // an IP) would otherwise have its assets upgraded to https and fail to load.
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  app.enableCors({
    origin: ['http://localhost:5173', ...config.CORS_ORIGINS],
    credentials: true,
    exposedHeaders: ['X-Request-ID', 'Retry-After', 'Idempotent-Replayed'],
  });
  app.use(jsonBody(config.BODY_LIMIT, [`/${API_PREFIX}/${SIGNED_OBJECT_ROUTE}/`]));
  app.use(enterRequestContext);
  mountQueueBoard(app);
  app.useWebSocketAdapter(new ConfluxWsAdapter(app, app.get(RealtimeConfig).WS_MAX_MESSAGE_BYTES));
  applyApiPrefix(app);
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    customSiteTitle: 'Conflux API',
  });
}

/** `/api/v1` for everything but the probes; the OpenAPI generator uses the same call. */
export function applyApiPrefix(app: INestApplication): void {
  app.setGlobalPrefix(API_PREFIX, { exclude: UNPREFIXED });
}

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Conflux API')
    .setDescription(
      'Multi-tenant workflow and data-pipeline orchestration. Errors use one envelope: ' +
        '`{error_code, error, message, details?, request_id}`. WebSockets, outside this document: ' +
        "`/ws/runs/{run_id}` (a run's snapshot, then its events) and `/ws/realtime` (tenant topics); see the README.",
    )
    .setVersion(version)
    // Relative: Swagger UI and clients call the deployment that serves the document.
    .addServer('/', 'this deployment')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, 'bearer')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'api-key')
    .build();
  // Proprietary (package.json: UNLICENSED): a name, and no license text to link to.
  config.info.license = { name: 'UNLICENSED' };
  return SwaggerModule.createDocument(app, config);
}
