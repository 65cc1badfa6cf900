import { createHmac } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { signatureProblem, signWebhook } from './webhook-signature';

const body = Buffer.from('{"a":1}');

describe('webhook signatures', () => {
  it('matches the documented worked example', () => {
    const expected = createHmac('sha256', 'whsec_test').update('1700000000.{"a":1}').digest('hex');
    expect(signWebhook('whsec_test', body, 1700000000)).toBe(`t=1700000000,v1=${expected}`);
  });

  it('accepts a fresh valid signature, also among several v1 values', () => {
    const header = signWebhook('s3cret', body);
    expect(signatureProblem('s3cret', body, header)).toBeUndefined();
    expect(signatureProblem('s3cret', body, `${header},v1=${'0'.repeat(64)}`)).toBeUndefined();
  });

  it('refuses a wrong secret, a changed body, a stale or future timestamp, and a malformed header', () => {
    const now = Math.floor(Date.now() / 1000);
    expect(signatureProblem('other', body, signWebhook('s3cret', body))).toBe('signature does not match');
    expect(signatureProblem('s3cret', Buffer.from('{"a":2}'), signWebhook('s3cret', body))).toBe(
      'signature does not match',
    );
    expect(signatureProblem('s3cret', body, signWebhook('s3cret', body, now - 301))).toBe(
      'timestamp is outside the 5-minute tolerance',
    );
    expect(signatureProblem('s3cret', body, signWebhook('s3cret', body, now + 301))).toBe(
      'timestamp is outside the 5-minute tolerance',
    );
    expect(signatureProblem('s3cret', body, 'sha256=abc')).toMatch(/^malformed/);
  });
});
