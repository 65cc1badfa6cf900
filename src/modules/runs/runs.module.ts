import { Module } from '@nestjs/common';
import { EngineModule } from '../engine/engine.module';
import { PoliciesModule } from '../policies/policies.module';
import { RunsController } from './runs.controller';
import { RunsService } from './runs.service';

@Module({
  imports: [EngineModule, PoliciesModule],
  controllers: [RunsController],
  providers: [RunsService],
  exports: [RunsService],
})
export class RunsModule {}
