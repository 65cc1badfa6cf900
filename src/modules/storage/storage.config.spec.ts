import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../core/config/config.loader';
import { StorageConfig } from '../../core/config/storage.config';

describe('StorageConfig', () => {
  it('is local under .data/storage with a 50 MB upload limit by default', () => {
    const config = loadConfig(StorageConfig, {});
    expect([config.backend, config.STORAGE_DIR, config.uploadLimitBytes]).toEqual([
      'local',
      '.data/storage',
      50 * 1024 ** 2,
    ]);
  });

  it('switches to S3 when S3_BUCKET is set', () => {
    const config = loadConfig(StorageConfig, {
      S3_BUCKET: 'conflux',
      S3_ENDPOINT: 'http://minio:9000',
      UPLOAD_LIMIT: '512kb',
    });
    expect([config.backend, config.S3_REGION, config.uploadLimitBytes]).toEqual([
      's3',
      'us-east-1',
      512 * 1024,
    ]);
  });

  it('names each inconsistent or malformed S3 setting', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ S3_ENDPOINT: 'http://minio:9000' }, /S3_BUCKET \(unset\): is required when S3_ENDPOINT is set/],
      [{ S3_BUCKET: 'Not_A_Bucket' }, /S3_BUCKET \("Not_A_Bucket"\): must be a valid S3 bucket name/],
      [
        { S3_BUCKET: 'b-1', S3_ACCESS_KEY: 'k' },
        /S3_SECRET_KEY \(unset\): is required when S3_ACCESS_KEY is set/,
      ],
      [
        { S3_BUCKET: 'b-1', S3_SECRET_KEY: 's' },
        /S3_ACCESS_KEY \(unset\): is required when S3_SECRET_KEY is set/,
      ],
      [{ S3_ENDPOINT: 'minio:9000', S3_BUCKET: 'b-1' }, /S3_ENDPOINT \("minio:9000"\)/],
      [{ UPLOAD_LIMIT: 'lots' }, /UPLOAD_LIMIT \("lots"\): must be a size/],
      [{ S3_FORCE_PATH_STYLE: 'sometimes' }, /S3_FORCE_PATH_STYLE/],
      [{ STORAGE_PUBLIC_URL: 'conflux.example.com' }, /STORAGE_PUBLIC_URL/],
    ];
    for (const [env, message] of cases) expect(() => loadConfig(StorageConfig, env)).toThrow(message);
  });
});
