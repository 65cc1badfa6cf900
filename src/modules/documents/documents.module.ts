import { type DynamicModule, Module } from '@nestjs/common';
import { PoliciesModule } from '../policies/policies.module';
import { ConfigurationsController } from './configurations.controller';
import { ConfigurationsService } from './configurations.service';
import { DocumentEvents } from './document-events';
import { DocumentsController } from './documents.controller';
import { DocumentsMetrics } from './documents.metrics';
import { DocumentsRepository } from './documents.repository';
import { DocumentsService } from './documents.service';
import { ExtractionProcessor } from './extraction.processor';
import { ExtractionService } from './extraction.service';
import { JobsController } from './jobs.controller';
import { JobsService } from './jobs.service';
import { TablesController } from './tables.controller';
import { TablesService } from './tables.service';

/**
 * Documents, extraction configurations, extraction jobs and extracted tables. The API takes uploads, serves
 * them and queues jobs; the worker consumes the `documents` queue and loads tables into tenant schemas.
 */
@Module({})
export class DocumentsModule {
  static forRoot(role: 'api' | 'worker'): DynamicModule {
    const common = [DocumentsRepository, DocumentEvents, DocumentsMetrics];
    return {
      module: DocumentsModule,
      imports: role === 'api' ? [PoliciesModule] : [],
      controllers:
        role === 'api'
          ? [DocumentsController, ConfigurationsController, JobsController, TablesController]
          : [],
      providers:
        role === 'api'
          ? [...common, DocumentsService, ConfigurationsService, JobsService, TablesService]
          : [...common, ExtractionService, ExtractionProcessor],
    };
  }
}
