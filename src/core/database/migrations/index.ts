import type { MigrationInterface } from 'typeorm';
import { Identity1763800000000 } from './1763800000000-identity';
import { Idempotency1763900000000 } from './1763900000000-idempotency';
import { Workflows1764000000000 } from './1764000000000-workflows';
import { Runs1764100000000 } from './1764100000000-runs';
import { Triggers1764200000000 } from './1764200000000-triggers';
import { RunRequestId1764250000000 } from './1764250000000-run-request-id';
import { PlanScheduleInterval1764260000000 } from './1764260000000-plan-schedule-interval';
import { DataSandbox1764300000000 } from './1764300000000-data-sandbox';
import { EngineVersionTwo1764500000000 } from './1764500000000-engine-v2';
import { AuditFastPath1764600000000 } from './1764600000000-audit-fast-path';
import { Documents1764700000000 } from './1764700000000-documents';
import { Packages1764710000000 } from './1764710000000-packages';
import { Access1764720000000 } from './1764720000000-access';
import { Pipelines1764810000000 } from './1764810000000-pipelines';
import { RunConcurrency1764900000000 } from './1764900000000-run-concurrency';
import { EngineRoundTrips1765000000000 } from './1765000000000-engine-round-trips';
import { EngineLockHeld1765100000000 } from './1765100000000-engine-lock-held';
import { StepRunsOneOpenIndex1765200000000 } from './1765200000000-step-runs-one-open-index';
import { RunChildrenUnchecked1765300000000 } from './1765300000000-run-children-unchecked';
import { AuditAppendAll1765400000000 } from './1765400000000-audit-append-all';

/**
 * Every migration, oldest first. Listed explicitly (not globbed) so the app, the tests and the TypeORM CLI
 * all see the same set whether they run from src/ or dist/. Never edit a migration once committed.
 */
export const MIGRATIONS: Array<new () => MigrationInterface> = [
  Identity1763800000000,
  Idempotency1763900000000,
  Workflows1764000000000,
  Runs1764100000000,
  Triggers1764200000000,
  RunRequestId1764250000000,
  PlanScheduleInterval1764260000000,
  DataSandbox1764300000000,
  EngineVersionTwo1764500000000,
  AuditFastPath1764600000000,
  Documents1764700000000,
  Packages1764710000000,
  Access1764720000000,
  Pipelines1764810000000,
  RunConcurrency1764900000000,
  EngineRoundTrips1765000000000,
  EngineLockHeld1765100000000,
  StepRunsOneOpenIndex1765200000000,
  RunChildrenUnchecked1765300000000,
  AuditAppendAll1765400000000,
];
