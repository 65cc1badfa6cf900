import { AsyncLocalStorage } from 'node:async_hooks';
import type { Principal } from '../auth/principal';

export interface RequestContextStore {
  requestId: string;
  /** Set by the auth guard once the credential checks out. */
  principal?: Principal;
  /** `X-User-ID`: recorded in the audit log, never used for access decisions. */
  xUserId?: string;
}

/**
 * The per-request context. AsyncLocalStorage instead of request-scoped providers: nothing is re-instantiated
 * per request, and the same store serves the audit log and logging.
 */
export const requestContext = new AsyncLocalStorage<RequestContextStore>();

export function currentRequestId(): string | undefined {
  return requestContext.getStore()?.requestId;
}

/** Makes the principal the request's: on `req.user` (for @CurrentPrincipal) and in the context (audit, logs). */
export function bindPrincipal(req: { user?: unknown }, principal: Principal): void {
  req.user = principal;
  const store = requestContext.getStore();
  if (store) store.principal = principal;
}

export function currentPrincipal(): Principal | undefined {
  return requestContext.getStore()?.principal;
}
