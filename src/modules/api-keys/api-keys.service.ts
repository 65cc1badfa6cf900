import { Injectable, Logger } from '@nestjs/common';
import {
  ApiKeyVerifier,
  apiKeyHashMatches,
  apiKeyPrefix,
  generateApiKey,
  hashApiKey,
} from '../../core/auth/api-key';
import { actorOf, type Principal, type TenantRole } from '../../core/auth/principal';
import type { Page } from '../../core/http/pagination';
import { currentPrincipal } from '../../core/tenancy/request-context';
import { AuditService } from '../audit/audit.service';
import { ApiKeyCache } from './api-key-cache';
import { ApiKeyNotFoundException } from './api-keys.exceptions';
import { ApiKeysRepository } from './api-keys.repository';
import type { ApiKeyResponse, CreatedApiKeyResponse } from './dto/api-key.dto';
import type { ApiKeyEntity } from './entities/api-key.entity';

@Injectable()
export class ApiKeysService extends ApiKeyVerifier {
  private readonly logger = new Logger('ApiKeys');

  constructor(
    private readonly repository: ApiKeysRepository,
    private readonly audit: AuditService,
    private readonly cache: ApiKeyCache,
  ) {
    super();
  }

  async create(tenantId: string, input: { name: string; role?: TenantRole }): Promise<CreatedApiKeyResponse> {
    const generated = generateApiKey();
    const row = await this.repository.insert({
      tenant_id: tenantId,
      name: input.name,
      role: input.role ?? 'member',
      prefix: generated.prefix,
      key_hash: generated.hash,
      created_by: actorOf(currentPrincipal()),
    });
    await this.audit.record({
      tenantId,
      eventType: 'api_key.created',
      resourceType: 'api_key',
      resourceId: row.id,
      details: { name: row.name, role: row.role, prefix: row.prefix },
    });
    return {
      id: row.id,
      name: row.name,
      role: row.role,
      prefix: row.prefix,
      api_key: generated.key,
      created_at: row.created_at.toISOString(),
    };
  }

  async list(tenantId: string, offset: number, limit: number): Promise<Page<ApiKeyResponse>> {
    const [rows, total] = await this.repository.list(tenantId, offset, limit);
    return { items: rows.map(toApiKeyResponse), total };
  }

  async revoke(tenantId: string, id: string): Promise<void> {
    const row = await this.repository.revoke(tenantId, id);
    if (!row) throw new ApiKeyNotFoundException(id);
    await this.cache.revoked(id);
    await this.audit.record({
      tenantId,
      eventType: 'api_key.revoked',
      resourceType: 'api_key',
      resourceId: id,
      details: { name: row.name, prefix: row.prefix },
    });
  }

  async verify(key: string): Promise<Principal | undefined> {
    const prefix = apiKeyPrefix(key);
    if (!prefix) return undefined;
    const hash = hashApiKey(key);
    const cached = this.cache.principalOf(hash);
    if (cached) {
      if (cached.touch) void this.touch(cached.principal.api_key_id as string);
      return cached.principal;
    }
    const mark = this.cache.mark();
    const row = await this.repository.findLiveByPrefix(prefix);
    if (!row || !apiKeyHashMatches(hash, row.key_hash)) return undefined;
    // Awaited here (once per cache lifetime), so `last_used_at` is there once the key's first use answered.
    await this.touch(row.id);
    const principal: Principal = {
      role: row.role,
      via: 'api_key',
      tenant_id: row.tenant_id,
      api_key_id: row.id,
    };
    this.cache.remember(hash, principal, mark);
    return principal;
  }

  private touch(id: string): Promise<void> {
    return this.repository
      .touch(id)
      .catch((error: Error) => this.logger.warn(`last_used_at not recorded: ${error.message}`));
  }
}

function toApiKeyResponse(row: ApiKeyEntity): ApiKeyResponse {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    prefix: row.prefix,
    created_by: row.created_by,
    created_at: row.created_at.toISOString(),
    last_used_at: row.last_used_at?.toISOString() ?? null,
    revoked_at: row.revoked_at?.toISOString() ?? null,
  };
}
