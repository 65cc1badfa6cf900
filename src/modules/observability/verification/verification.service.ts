import { Injectable, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { AuditService } from '../../audit/audit.service';
import type { VerificationResponse } from '../dto/verification.dto';
import {
  ApiKeysHashedCheck,
  AuditChainCheck,
  AuthBypassOffCheck,
  HstsCheck,
  RetentionSettingsCheck,
  WebhookSecretsCheck,
} from './compliance.checks';
import {
  AnonymousAccessCheck,
  BodyLimitCheck,
  CorsCheck,
  ErrorBodiesCheck,
  SecurityHeadersCheck,
} from './penetration.checks';
import {
  AlgNoneTokenCheck,
  CrossTenantProbeCheck,
  ForgedTokenCheck,
  RateLimitingCheck,
  SqlSandboxEscapeCheck,
  SsrfMetadataCheck,
} from './red-team.checks';
import { type CheckContext, type TestType, type VerificationCheck } from './verification-check';

/** Which checks each suite runs: different suites, different checks. */
export const SUITES: Record<TestType, Array<Type<VerificationCheck>>> = {
  'red-team': [
    CrossTenantProbeCheck,
    ForgedTokenCheck,
    AlgNoneTokenCheck,
    SqlSandboxEscapeCheck,
    SsrfMetadataCheck,
    RateLimitingCheck,
  ],
  compliance: [
    AuditChainCheck,
    ApiKeysHashedCheck,
    WebhookSecretsCheck,
    AuthBypassOffCheck,
    HstsCheck,
    RetentionSettingsCheck,
  ],
  penetration: [SecurityHeadersCheck, CorsCheck, BodyLimitCheck, ErrorBodiesCheck, AnonymousAccessCheck],
};

export const CHECK_PROVIDERS = [...new Set(Object.values(SUITES).flat())];

/** Runs a suite's checks one after another against the live deployment; the run is audited. */
@Injectable()
export class VerificationService {
  constructor(
    private readonly modules: ModuleRef,
    private readonly audit: AuditService,
  ) {}

  async run(testType: TestType, context: CheckContext): Promise<VerificationResponse> {
    const details: VerificationResponse['details'] = [];
    for (const type of SUITES[testType]) {
      const check = this.modules.get(type);
      try {
        details.push({ test: check.name, ...(await check.run(context)) });
      } catch (error) {
        details.push({
          test: check.name,
          passed: false,
          message: `the check could not run: ${(error as Error).message}`,
        });
      }
    }
    const passed = details.filter((detail) => detail.passed).length;
    const score = Math.round((passed / details.length) * 10_000) / 100;
    await this.audit.record({
      tenantId: context.principal.tenant_id ?? null,
      eventType: 'verification.run',
      resourceType: 'verification',
      resourceId: testType,
      details: {
        score,
        passed,
        total: details.length,
        failed: details.filter((detail) => !detail.passed).map((detail) => detail.test),
      },
    });
    return { test_type: testType, score, details };
  }
}
