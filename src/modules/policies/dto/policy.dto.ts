import { ApiProperty, ApiPropertyOptional, PickType } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsDefined,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { Type } from 'class-transformer';
import { TENANT_ROLES, type TenantRole } from '../../../core/auth/principal';
import { POLICY_ACTIONS, type PolicyAction, type PolicyRule, POLICY_SUBJECTS } from '../policy-rules';

const RULES_EXAMPLE: PolicyRule[] = [
  {
    action: 'run',
    subject: 'Workflow',
    inverted: true,
    conditions: { tags: 'prod' },
    reason: 'members may not run workflows tagged prod',
  },
  { action: 'read', subject: 'Run', fields: ['id', 'status', 'created_at'] },
];

const rulesProperty = {
  description:
    `CASL rules \`{action, subject, fields?, conditions?, inverted?, reason?}\`; actions: ${POLICY_ACTIONS.join(', ')}; ` +
    `subjects: ${POLICY_SUBJECTS.join(', ')}; conditions are MongoDB-style queries over the record's fields ` +
    '($eq $ne $lt $lte $gt $gte $in $nin $all $size $elemMatch $exists, $and $or $nor). See docs/access.md.',
  example: RULES_EXAMPLE,
  type: 'array',
  items: { type: 'object' },
} as const;

export class PolicyBodyDto {
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name: string;

  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  /** The roles the policy narrows; default member and viewer (owners are bound only when named here). */
  @ApiPropertyOptional({ enum: TENANT_ROLES, isArray: true, default: ['member', 'viewer'] })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @IsIn(TENANT_ROLES, { each: true })
  roles?: TenantRole[];

  @ApiProperty(rulesProperty)
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @IsObject({ each: true })
  rules: PolicyRule[];

  /** A disabled policy is kept but not enforced. */
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class PolicyResponse {
  id: string;
  tenant_id: string;
  name: string;
  description: string;
  @ApiProperty({ enum: TENANT_ROLES, isArray: true })
  roles: TenantRole[];
  @ApiProperty(rulesProperty)
  rules: PolicyRule[];
  enabled: boolean;
  /** Goes up by one on every PUT. */
  version: number;
  created_at: string;
  updated_at: string;
}

export class PolicyPage {
  items: PolicyResponse[];
  total: number;
}

/** The policy a dry run tries: its rules and roles, as `POST /policies` would take them. */
export class DryRunPolicyDto extends PickType(PolicyBodyDto, ['rules', 'roles'] as const) {}

export class SampleRecordDto {
  @ApiProperty({ enum: POLICY_SUBJECTS.filter((s) => s !== 'all') })
  @IsIn(POLICY_SUBJECTS.filter((s) => s !== 'all'))
  subject: Exclude<(typeof POLICY_SUBJECTS)[number], 'all'>;

  /** The record's fields, as the API shows it (a workflow's `name`, `status`, `tags`, ...). */
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { name: 'Nightly load', tags: ['prod'] },
  })
  @IsObject()
  data: Record<string, unknown>;
}

export class DryRunDto {
  /** The policy to try (as it would be saved; not saved). */
  @IsDefined()
  @ValidateNested()
  @Type(() => DryRunPolicyDto)
  policy: DryRunPolicyDto;

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(200)
  @ValidateNested({ each: true })
  @Type(() => SampleRecordDto)
  records: SampleRecordDto[];

  /** The actions to try; default every action but `manage`. */
  @ApiPropertyOptional({ enum: POLICY_ACTIONS, isArray: true })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @IsIn(POLICY_ACTIONS, { each: true })
  actions?: PolicyAction[];

  /** Whose role defaults the policy narrows in this trial; default member. */
  @ApiPropertyOptional({ enum: TENANT_ROLES, default: 'member' })
  @IsOptional()
  @IsIn(TENANT_ROLES)
  role?: TenantRole;
}

export class DryRunResult {
  /** The record's position in `records`. */
  record: number;
  subject: string;
  @ApiProperty({ enum: POLICY_ACTIONS })
  action: PolicyAction;
  allowed: boolean;
  /** The record's fields the action may touch (empty when not allowed). */
  fields: string[];
  /** The refusing rule's reason, when it gives one. */
  reason?: string;
}

export class DryRunResponse {
  role: TenantRole;
  results: DryRunResult[];
}
