import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-custom';
import { ApiKeyVerifier, apiKeyPrefix } from './api-key';
import type { CredentialCarrier } from './authenticator';
import type { Principal } from './principal';

/** `X-API-Key: <key>` (or an API key sent as a bearer token), checked by hash. */
@Injectable()
export class ApiKeyStrategy extends PassportStrategy(Strategy, 'api-key') {
  constructor(private readonly verifier: ApiKeyVerifier) {
    super();
  }

  async validate(req: CredentialCarrier): Promise<Principal | false> {
    const key = apiKeyFromRequest(req);
    if (!key) return false;
    return (await this.verifier.verify(key)) ?? false;
  }
}

export function apiKeyFromRequest(req: CredentialCarrier): string | undefined {
  const header = req.headers['x-api-key'];
  if (typeof header === 'string' && header) return header.trim();
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  return bearer && apiKeyPrefix(bearer) ? bearer : undefined;
}
