import { isUUID } from 'class-validator';
import { type CanActivate, type ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { ApiKeyVerifier } from '../../core/auth/api-key';
import { apiKeyFromRequest } from '../../core/auth/api-key.strategy';
import {
  AuthenticationRequiredException,
  InsufficientPermissionsException,
  InvalidTokenException,
} from '../../core/auth/auth.exceptions';
import { hasRole, type Principal } from '../../core/auth/principal';
import { AppException } from '../../core/http/app.exception';
import { assertContentType } from '../../core/http/content-type.interceptor';
import type { RawBodyRequest } from '../../core/http/json-body';
import { bindPrincipal } from '../../core/tenancy/request-context';
import { WorkflowNotFoundException } from '../workflows/workflows.exceptions';
import { WorkflowsRepository } from '../workflows/workflows.repository';
import { SIGNATURE_HEADER, signatureProblem, signedDeliveryId } from './webhook-signature';
import { TriggersRepository } from './triggers.repository';

/** A delivery the guard let through; `signedDeliveryId` is set when it came signed (not with an API key). */
export interface WebhookRequest extends RawBodyRequest {
  signedDeliveryId?: string;
}

/**
 * A public webhook route authenticates the delivery itself: the workflow's HMAC signature, or an API key of
 * the workflow's tenant (member or above). It then acts as that tenant, so the tenant's rate limits apply.
 */
@Injectable()
export class WebhookGuard implements CanActivate {
  constructor(
    private readonly triggers: TriggersRepository,
    private readonly workflows: WorkflowsRepository,
    private readonly apiKeys: ApiKeyVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<WebhookRequest & Request>();
    // Before the signature: a body the JSON parser did not read cannot be checked against it.
    assertContentType(req);
    const workflowId = String(req.params.workflow_id);
    const tenantId = isUUID(workflowId) ? await this.workflows.tenantOfForWebhook(workflowId) : undefined;
    if (!tenantId) throw new WorkflowNotFoundException(workflowId);

    const key = apiKeyFromRequest(req);
    let principal: Principal;
    if (key) {
      const byKey = await this.apiKeys.verify(key);
      if (!byKey) throw new InvalidTokenException('unknown, malformed or revoked API key');
      if (byKey.tenant_id !== tenantId) throw new WorkflowNotFoundException(workflowId);
      if (!hasRole(byKey, 'member')) throw new InsufficientPermissionsException('member', byKey.role);
      principal = byKey;
    } else {
      const header = req.header(SIGNATURE_HEADER);
      if (!header) throw new AuthenticationRequiredException();
      const secret = await this.triggers.secretForWebhook(workflowId);
      if (!secret)
        throw new AppException(
          'INVALID_TOKEN',
          HttpStatus.UNAUTHORIZED,
          'This workflow has no webhook secret yet',
        );
      const raw = req.rawBody ?? Buffer.alloc(0);
      const problem = signatureProblem(secret.secret, raw, header);
      if (problem) throw new InvalidTokenException(problem);
      req.signedDeliveryId = signedDeliveryId(raw, header);
      principal = { role: 'member', via: 'webhook', tenant_id: tenantId };
    }
    bindPrincipal(req, principal);
    return true;
  }
}
