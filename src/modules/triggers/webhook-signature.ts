import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-conflux-signature';
export const TOLERANCE_SECONDS = 300;

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` with the workflow's webhook secret. */
export function signWebhook(
  secret: string,
  rawBody: Buffer | string,
  timestamp = Math.floor(Date.now() / 1000),
): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

/** Undefined when the signature checks out; otherwise why not. Constant-time comparison. */
export function signatureProblem(
  secret: string,
  rawBody: Buffer,
  header: string,
  now = Math.floor(Date.now() / 1000),
): string | undefined {
  const parts = header.split(',').map((part) => part.trim().split('='));
  const t = parts.find(([k]) => k === 't')?.[1];
  const signatures = parts.filter(([k]) => k === 'v1').map(([, v]) => v ?? '');
  if (!t || !/^\d+$/.test(t) || signatures.length === 0)
    return 'malformed signature header: expected t=<unix>,v1=<hex>';
  if (Math.abs(now - Number(t)) > TOLERANCE_SECONDS)
    return `timestamp is outside the ${TOLERANCE_SECONDS / 60}-minute tolerance`;
  const expected = Buffer.from(
    createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest('hex'),
    'utf8',
  );
  const ok = signatures.some((sig) => {
    const given = Buffer.from(sig, 'utf8');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  return ok ? undefined : 'signature does not match';
}

/**
 * What makes a signed delivery one delivery: its signed timestamp and body. A captured delivery sent again
 * carries the same pair whatever unsigned headers (a fresh `X-Delivery-ID`) it is dressed in.
 */
export function signedDeliveryId(rawBody: Buffer, header: string): string {
  const t = header
    .split(',')
    .map((part) => part.trim().split('='))
    .find(([k]) => k === 't')?.[1];
  return createHash('sha256').update(`${t}.`).update(rawBody).digest('hex');
}
