import type { Server } from 'node:http';
import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';

/**
 * Rolling restarts: the moment the API starts shutting down (SIGTERM), the listener closes, so no new connection
 * reaches this process, while requests already in flight run to completion (Nest closes the database and Redis
 * only after the server has finished them). Idle keep-alive connections are closed too; WebSockets are told to
 * reconnect by the realtime module.
 */
@Injectable()
export class HttpDrain implements OnModuleDestroy {
  private readonly logger = new Logger('HttpDrain');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleDestroy(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server?.listening) return;
    // Nest's own close later waits for the in-flight requests; this one only stops accepting.
    server.close();
    server.closeIdleConnections();
    this.logger.log('stopped accepting connections; finishing requests in flight');
  }
}
