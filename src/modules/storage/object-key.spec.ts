import { describe, expect, it } from '@jest/globals';
import { InvalidObjectPath, ObjectKey, pathProblem } from './object-key';

describe('ObjectKey', () => {
  it('scopes a client path to its tenant: <tenant>/<bucket>/<path>', () => {
    const key = ObjectKey.of('acme', 'reports/2025/q1 summary.csv');
    expect([key.tenantId, key.bucket, key.name, key.path]).toEqual([
      'acme',
      'reports',
      '2025/q1 summary.csv',
      'reports/2025/q1 summary.csv',
    ]);
    expect(key.toString()).toBe('acme/reports/2025/q1 summary.csv');
    expect(ObjectKey.parse('acme/reports/x').toString()).toBe('acme/reports/x');
  });

  it.each([
    ['../other/x', "'.' or '..'"],
    ['a/../../other/x', "'.' or '..'"],
    ['a/..', "'.' or '..'"],
    ['a/./b', "'.' or '..'"],
    ['/etc/passwd', 'relative'],
    ['C:\\Windows', 'backslash'],
    ['C:/Windows/x', 'relative'],
    ['a\\b', 'backslash'],
    ['a/b\0c', 'NUL'],
    ['a/b\u001bc', 'control'],
    ['a/b\u007f', 'control'],
    ['a//b', 'empty segments'],
    ['a/b/', 'empty segments'],
    ['bucket-only', '<bucket>/<path>'],
    ['', 'empty'],
    ['a/\ud800', 'Unicode'],
    [`a/${'x'.repeat(201)}`, '200 bytes'],
    [`a/${'x/'.repeat(600)}x`, 'too long'],
    ['a/.conflux-meta.x', '.conflux-'],
    ['-bad/x', 'bucket'],
  ])('refuses %j (%s)', (path, reason) => {
    expect(pathProblem(path)).toContain(reason);
    expect(() => ObjectKey.of('acme', path)).toThrow(InvalidObjectPath);
  });

  it('counts the tenant prefix in the 1024-byte key limit', () => {
    const path = `a/${Array.from({ length: 5 }, () => 'x'.repeat(199)).join('/')}`; // 1001 bytes
    expect(pathProblem(path)).toBeUndefined();
    expect(() => ObjectKey.of('acme', path)).not.toThrow();
    expect(() => ObjectKey.of('a_long_tenant_name_of_fifty_characters_exactly_xx', path)).toThrow(/too long/);
  });

  it('takes names S3 allows that are no traversal', () => {
    for (const path of [
      'a/..x',
      'a/x..',
      'a/...',
      'a/%2e%2e/x',
      'a/ünïcødé ✓.txt',
      'a/.hidden',
      'A_b.c-d/x',
    ]) {
      expect(pathProblem(path)).toBeUndefined();
    }
  });

  it('refuses a tenant id that is not one', () => {
    expect(() => ObjectKey.of('../x', 'a/b')).toThrow('invalid tenant id');
    expect(() => ObjectKey.parse('no-slash')).toThrow(InvalidObjectPath);
  });
});
