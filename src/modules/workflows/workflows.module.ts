import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PoliciesModule } from '../policies/policies.module';
import { CatalogController } from './catalog.controller';
import { WorkflowEntity } from './entities/workflow.entity';
import { WorkflowsController } from './workflows.controller';
import { WorkflowsRepository } from './workflows.repository';
import { WorkflowsService } from './workflows.service';

@Module({
  imports: [TypeOrmModule.forFeature([WorkflowEntity]), PoliciesModule],
  controllers: [WorkflowsController, CatalogController],
  providers: [WorkflowsRepository, WorkflowsService],
  exports: [WorkflowsService, WorkflowsRepository],
})
export class WorkflowsModule {}
