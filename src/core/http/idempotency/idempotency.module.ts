import { type DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IdempotencyCleanup } from './idempotency-cleanup';
import { IdempotencyRecordEntity } from './idempotency-record.entity';
import { IdempotencyInterceptor } from './idempotency.interceptor';
import { IdempotencyRepository } from './idempotency.repository';

@Global()
@Module({})
export class IdempotencyModule {
  /** The API applies `@Idempotent()`; the worker also runs the retention cleanup. */
  static forRoot(role: 'api' | 'worker'): DynamicModule {
    return {
      module: IdempotencyModule,
      imports: [TypeOrmModule.forFeature([IdempotencyRecordEntity])],
      // The interceptor in both: the worker imports domain modules whose controllers name it (inert there).
      providers: [
        IdempotencyRepository,
        IdempotencyInterceptor,
        ...(role === 'worker' ? [IdempotencyCleanup] : []),
      ],
      exports: [IdempotencyInterceptor, IdempotencyRepository],
    };
  }
}
