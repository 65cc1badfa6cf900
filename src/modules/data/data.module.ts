import { Global, Module } from '@nestjs/common';
import { PoliciesModule } from '../policies/policies.module';
import { DataController } from './data.controller';
import { DataMetrics } from './data.metrics';
import { DataService } from './data.service';
import { DatasetRepository } from './dataset.repository';
import { LaunchpadDataController } from './launchpad-data.controller';
import { QueryAuditLog } from './query-audit';
import { SandboxAccess } from './sandbox-access';
import { SandboxPools } from './sandbox-pools';
import { SandboxRoleRepository } from './sandbox-roles.repository';
import { SandboxRunner } from './sandbox-runner';
import { SandboxSecrets } from './sandbox-secrets';

/**
 * Tenant datasets (schema + restricted LOGIN role) and the SQL sandbox over them: `/data/query`, `/data/tables`
 * and their Launchpad aliases, and the DataService the `sql.query` step runs through. Global: onboarding,
 * the engine, and the modules that load tenant tables (documents, pipelines) use it.
 */
@Global()
@Module({
  imports: [PoliciesModule],
  controllers: [DataController, LaunchpadDataController],
  providers: [
    DatasetRepository,
    SandboxRoleRepository,
    SandboxSecrets,
    SandboxAccess,
    SandboxPools,
    SandboxRunner,
    DataMetrics,
    QueryAuditLog,
    DataService,
  ],
  exports: [DatasetRepository, DataService],
})
export class DataModule {}
