import { Body, Controller, Get, Patch } from '@nestjs/common';
import { ApiBadRequestResponse, ApiTags } from '@nestjs/swagger';
import { Auth, CurrentPrincipal } from '../../core/auth/auth.decorator';
import type { Principal } from '../../core/auth/principal';
import { PipelineStatusResponse, UpdatePipelineConfigDto } from './dto/pipeline-status.dto';
import { PipelineStatusService } from './pipeline-status.service';

@ApiTags('pipelines')
@Controller()
export class PipelineStatusController {
  constructor(private readonly status: PipelineStatusService) {}

  /**
   * The pipeline page of the dashboard: the deployment's settings, the rows per second through the stages over
   * the last 5 minutes, and one node per stage with its status and numbers (measured, never sampled).
   */
  @Get('pipeline/status')
  @Auth({ role: 'viewer' })
  get(): Promise<PipelineStatusResponse> {
    return this.status.status();
  }

  /** Changes the deployment's pipeline settings (platform admins): a new version, audited, seen by every process at once. */
  @Patch('config')
  @Auth({ role: 'admin' })
  @ApiBadRequestResponse({
    description: 'VALIDATION_ERROR: batch_size outside 1..256, mode not online/offline/dual',
  })
  update(
    @CurrentPrincipal() principal: Principal,
    @Body() body: UpdatePipelineConfigDto,
  ): Promise<PipelineStatusResponse> {
    return this.status.update(principal, body);
  }
}
