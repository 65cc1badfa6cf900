import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Auth } from '../../core/auth/auth.decorator';
import { StepTypeResponse } from './dto/workflow.dto';
import { STEP_CATALOG } from '../steps/catalog';

@ApiTags('catalog')
@Controller('catalog')
export class CatalogController {
  /** The editor's palette: every step type with the JSON Schema of its config form. */
  @Get('steps')
  @Auth({ role: 'viewer' })
  steps(): StepTypeResponse[] {
    return STEP_CATALOG.map((step) => ({
      type: step.type,
      name: step.name,
      category: step.category,
      description: step.description,
      config_schema: step.config_schema,
      outputs: step.outputs,
      available: !step.unavailable,
      ...(step.unavailable ? { unavailable_reason: step.unavailable } : {}),
    }));
  }
}
