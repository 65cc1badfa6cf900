import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestContextStore {
  requestId: string;
}

/**
 * The per-request context (request id now; the principal and tenant arrive with auth). AsyncLocalStorage
 * instead of request-scoped providers: nothing is re-instantiated per request and workers can use it too.
 */
export const requestContext = new AsyncLocalStorage<RequestContextStore>();

export function currentRequestId(): string | undefined {
  return requestContext.getStore()?.requestId;
}
