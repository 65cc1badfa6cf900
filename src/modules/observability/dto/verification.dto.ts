import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsString } from 'class-validator';
import { TEST_TYPES, type TestType } from '../verification/verification-check';

export class VerificationTestDto {
  /** Which suite to run against this deployment. */
  @ApiProperty({ enum: TEST_TYPES, example: 'red-team' })
  @IsString()
  @IsIn(TEST_TYPES)
  testType: TestType;
}

export class VerificationDetail {
  /** The check's name. */
  test: string;
  passed: boolean;
  /** What was probed and what came back. */
  message: string;
}

export class VerificationResponse {
  @ApiProperty({ enum: TEST_TYPES })
  test_type: TestType;
  /** passed / total * 100, two decimals. */
  score: number;
  @ApiProperty({ type: [VerificationDetail] })
  details: VerificationDetail[];
}
