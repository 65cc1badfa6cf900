import { Module } from '@nestjs/common';
import { AssistantController } from './assistant.controller';
import { AssistantMetrics } from './assistant.metrics';
import { AssistantService } from './assistant.service';
import { CatalogueRepository } from './catalogue.repository';
import { LaunchpadAssistantController } from './launchpad-assistant.controller';
import { LlmClient } from './llm.client';
import { SqlValidator } from './sql-validator';

/**
 * The SQL assistant (API only): `/ai/sql/suggest`, `/ai/query` and the Launchpad alias. Reads the tenant's
 * catalogue and checks every SQL through the data module (global) before answering with it.
 */
@Module({
  controllers: [AssistantController, LaunchpadAssistantController],
  providers: [CatalogueRepository, SqlValidator, LlmClient, AssistantMetrics, AssistantService],
})
export class AssistantModule {}
