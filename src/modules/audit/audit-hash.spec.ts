import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { auditHash, auditHashFrame, type UnchainedAuditEvent } from './audit-hash';

const event: UnchainedAuditEvent = {
  tenant_id: 'acme',
  event_type: 'workflow.created',
  timestamp: new Date('2026-12-01T10:00:00.123Z'),
  actor: 'api_key:k1',
  x_user_id: null,
  resource_type: 'workflow',
  resource_id: 'w1',
  // Quotes, backslashes, non-ASCII and text that looks like the frame's stand-ins must not move the frame.
  details: { name: 'a "b" \\ \\u0000seq "\\u0000prev_hash" é 🙂', nested: { z: 1, a: [true, null] } },
  sha256: null,
};

/** What the database does with the frame: the head's hash and the next seq in their places, hashed. */
function completed(unchained: UnchainedAuditEvent, seq: number, prevHash: string): string {
  const frame = auditHashFrame(unchained);
  return createHash('sha256')
    .update(`${frame.beforePrev}${prevHash}${frame.beforeSeq}${seq}${frame.afterSeq}`)
    .digest('hex');
}

describe('audit hash frame', () => {
  it('completes to the hash verify checks', () => {
    const prevHash = createHash('sha256').update('previous').digest('hex');
    for (const seq of [1, 42, 9_007_199_254_740_991]) {
      expect(completed(event, seq, prevHash)).toBe(auditHash({ ...event, seq, prev_hash: prevHash }));
    }
  });

  it('refuses a field with a NUL character, which Postgres could not store anyway', () => {
    expect(() => auditHashFrame({ ...event, resource_id: '\u0000seq' })).toThrow(/NUL/);
  });
});
