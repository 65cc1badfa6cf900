import { type CanActivate, createParamDecorator, type ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import type { Principal, Role } from '../../core/auth/principal';
import { bindPrincipal } from '../../core/tenancy/request-context';
import { SIGNED_METHODS } from './dto/storage.dto';
import { InvalidObjectPath, ObjectKey } from './object-key';
import { ObjectStorage, type SignedMethod } from './object-storage';
import {
  InvalidObjectPathException,
  SignedRouteUnavailableException,
  SignedUrlException,
} from './storage.exceptions';
import { SIGNED_PARAMS, StorageUrlSigner } from './url-signer';

const GRANTED_KEY = Symbol('conflux:signed-object-key');

type SignedRequest = Request & { [GRANTED_KEY]?: ObjectKey };

/**
 * The credential of a local signed URL is the URL itself: the key in the path and the method, expiry and
 * signer in the query, under an HMAC checked in constant time. Everything is checked before any I/O: a bad
 * key is 400, a tampered URL 403 SIGNATURE_INVALID, a GET URL used for PUT 403 SIGNED_URL_METHOD_MISMATCH,
 * an old one 403 SIGNED_URL_EXPIRED. A good one acts as its signer within the key's tenant (audit, rate limits).
 */
@Injectable()
export class SignedUrlGuard implements CanActivate {
  constructor(
    private readonly signer: StorageUrlSigner,
    private readonly storage: ObjectStorage,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (this.storage.kind !== 'local') throw new SignedRouteUnavailableException();
    const req = context.switchToHttp().getRequest<SignedRequest>();
    const key = keyFromPath(req.params.key);
    const param = (name: string) => {
      const value = req.query[name];
      return typeof value === 'string' ? value : undefined;
    };
    const method = param(SIGNED_PARAMS.method);
    const expires = param(SIGNED_PARAMS.expires);
    const actor = param(SIGNED_PARAMS.actor);
    const signature = param(SIGNED_PARAMS.signature);
    if (!method || !expires || !actor || !signature) {
      throw new SignedUrlException(
        'SIGNATURE_INVALID',
        `A signed URL carries ${Object.values(SIGNED_PARAMS).join(', ')}: get one from POST /api/v1/storage/signed-url`,
      );
    }
    const grant = { method: method as SignedMethod, key, expires: Number(expires), actor };
    if (
      !(SIGNED_METHODS as readonly string[]).includes(method) ||
      !/^\d{1,12}$/.test(expires) ||
      !this.signer.verify(grant, signature)
    ) {
      throw new SignedUrlException(
        'SIGNATURE_INVALID',
        'The URL signature does not match: it was altered or is not ours',
      );
    }
    const used = req.method === 'HEAD' ? 'GET' : req.method;
    if (used !== method) {
      throw new SignedUrlException(
        'SIGNED_URL_METHOD_MISMATCH',
        `This URL was signed for ${method}, not ${used}: ask for a ${used} URL`,
      );
    }
    if (grant.expires * 1000 <= Date.now()) {
      const at = new Date(grant.expires * 1000).toISOString();
      throw new SignedUrlException('SIGNED_URL_EXPIRED', `This URL expired at ${at}: ask for a new one`);
    }
    bindPrincipal(req, principalOf(actor, key.tenantId, method === 'PUT' ? 'member' : 'viewer'));
    req[GRANTED_KEY] = key;
    return true;
  }
}

/** The key a SignedUrlGuard let through. */
export const GrantedKey = createParamDecorator(
  (_data: unknown, context: ExecutionContext): ObjectKey =>
    context.switchToHttp().getRequest<SignedRequest>()[GRANTED_KEY] as ObjectKey,
);

/** Express hands a wildcard over as its decoded segments. */
function keyFromPath(raw: unknown): ObjectKey {
  const key = Array.isArray(raw) ? raw.join('/') : typeof raw === 'string' ? raw : '';
  try {
    return ObjectKey.parse(key);
  } catch (error) {
    if (error instanceof InvalidObjectPath) throw new InvalidObjectPathException('key', error.reason);
    throw error;
  }
}

/** The signer again, as `actorOf` named them, so the audit log names who authorised the transfer. */
function principalOf(actor: string, tenantId: string, role: Role): Principal {
  const colon = actor.indexOf(':');
  const kind = colon < 0 ? actor : actor.slice(0, colon);
  const id = colon < 0 ? '' : actor.slice(colon + 1);
  switch (kind) {
    case 'api_key':
      return { role, via: 'api_key', tenant_id: tenantId, api_key_id: id };
    case 'user':
      return { role, via: 'jwt', tenant_id: tenantId, user_id: id };
    case 'webhook':
      return { role, via: 'webhook', tenant_id: tenantId };
    case 'bypass':
      return { role: 'admin', via: 'bypass', tenant_id: tenantId };
    case 'admin':
      return { role: 'admin', via: 'jwt', tenant_id: tenantId };
    default:
      return { role, via: 'jwt', tenant_id: tenantId };
  }
}
