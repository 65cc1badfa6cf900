declare const vouched: unique symbol;

/**
 * A tenant id something has vouched for: the tenant an authenticated request acts on (`resolveTenant`), or the
 * owner recorded on a row read by its own id. Reads on the API path take this type rather than a plain string,
 * so a tenant id that came straight from a request body, a path or a header does not compile there until
 * something has checked it.
 */
export type TenantId = string & { readonly [vouched]: true };

/** Marks `id` as vouched for. Only the places that establish a tenant (see `TenantId`) call this. */
export const vouchedTenant = (id: string): TenantId => id as TenantId;
