import { HttpStatus } from '@nestjs/common';
import { TenantMismatchException } from '../auth/auth.exceptions';
import type { Principal } from '../auth/principal';
import { ValidationFailedException } from '../http/app.exception';
import { type TenantId, vouchedTenant } from './tenant-id';

/**
 * The tenant a request acts on. A tenant principal acts on its own tenant: naming another (a path's
 * `:tenant_id`, an admin-style `tenantId`) is 403 TENANT_MISMATCH. A platform admin must name one.
 */
export function resolveTenant(principal: Principal, requested?: string): TenantId {
  if (principal.role === 'admin') {
    if (!requested) {
      throw new ValidationFailedException(
        HttpStatus.BAD_REQUEST,
        'tenantId is required when acting as a platform admin',
        {
          fields: [
            { field: 'tenantId', constraints: { isDefined: 'tenantId is required for platform admins' } },
          ],
        },
      );
    }
    return vouchedTenant(requested);
  }
  if (requested !== undefined && requested !== principal.tenant_id) {
    throw new TenantMismatchException(principal.tenant_id, requested);
  }
  return vouchedTenant(principal.tenant_id as string);
}
