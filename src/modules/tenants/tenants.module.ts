import { Global, Module } from '@nestjs/common';
import { TenantDirectory } from '../../core/auth/tenant-directory';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TenantLimits } from '../../core/http/rate-limit/tenant-limits';
import { DataModule } from '../data/data.module';
import { PipelineDataModule } from '../pipelines/steps/pipeline-data.module';
import { RunReads } from '../engine/persistence/run-reads';
import { UsersModule } from '../users/users.module';
import { PlanEntity } from './entities/plan.entity';
import { TenantEntity } from './entities/tenant.entity';
import { TenantsController } from './tenants.controller';
import { TenantsRepository } from './tenants.repository';
import { TenantsService } from './tenants.service';

/** Global so the auth core's JWT strategy finds its `TenantDirectory`. */
@Global()
@Module({
  imports: [
    TypeOrmModule.forFeature([TenantEntity, PlanEntity]),
    UsersModule,
    DataModule,
    PipelineDataModule,
  ],
  controllers: [TenantsController],
  providers: [
    TenantsRepository,
    // The engine's run reads, for the quota's open-run count (stateless: a second instance costs nothing).
    RunReads,
    TenantsService,
    { provide: TenantLimits, useExisting: TenantsService },
    { provide: TenantDirectory, useExisting: TenantsService },
  ],
  exports: [TenantLimits, TenantDirectory],
})
export class TenantsModule {}
