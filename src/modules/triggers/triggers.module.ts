import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RateLimiter } from '../../core/http/rate-limit/rate-limiter';
import { EngineModule } from '../engine/engine.module';
import { PoliciesModule } from '../policies/policies.module';
import { ScheduleEntity } from './entities/schedule.entity';
import { WebhookSecretEntity } from './entities/webhook-secret.entity';
import { ScheduleProcessor } from './schedule.processor';
import { TriggersController } from './triggers.controller';
import { TriggersRepository } from './triggers.repository';
import { TriggersService } from './triggers.service';
import { WebhookGuard } from './webhook.guard';

/** Webhooks and schedules. The API takes deliveries and manages schedules; the worker fires the ticks. */
@Module({})
export class TriggersModule {
  static forRoot(role: 'api' | 'worker'): DynamicModule {
    return {
      module: TriggersModule,
      imports: [
        TypeOrmModule.forFeature([WebhookSecretEntity, ScheduleEntity]),
        EngineModule,
        PoliciesModule,
      ],
      controllers: role === 'api' ? [TriggersController] : [],
      providers: [
        TriggersRepository,
        TriggersService,
        RateLimiter,
        // The webhook guard needs the API's key verifier; the worker fires schedule ticks instead.
        ...(role === 'api' ? [WebhookGuard] : [ScheduleProcessor]),
      ],
    };
  }
}
