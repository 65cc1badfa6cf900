import {
  type DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { AuthConfig } from '../../core/config/auth.config';
import { StorageConfig } from '../../core/config/storage.config';
import { LaunchpadStorageController } from './launchpad-storage.controller';
import { LocalObjectStorage } from './local-object-storage';
import { ObjectStorage } from './object-storage';
import { SignedObjectController } from './signed-object.controller';
import { SignedUrlGuard } from './signed-url.guard';
import { StorageController } from './storage.controller';
import { StorageService } from './storage.service';
import { StorageUrlSigner } from './url-signer';

/** Temporary files of killed writers older than this go at start-up (a live upload keeps touching its own). */
const SWEEP_AFTER_MS = 60 * 60 * 1000;

/**
 * The store the config names: S3 when S3_BUCKET is set, else the local filesystem. The AWS SDK is loaded only
 * for S3 (it is about 6 MB of heap that every process would otherwise carry).
 */
export async function createObjectStorage(
  config: StorageConfig,
  signer?: StorageUrlSigner,
): Promise<ObjectStorage> {
  if (config.backend === 's3') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded for S3 alone (see above)
    const { S3ObjectStorage } = require('./s3-object-storage') as typeof import('./s3-object-storage');
    const s3 = new S3ObjectStorage(config);
    await s3.init();
    return s3;
  }
  const local = new LocalObjectStorage(config.STORAGE_DIR, signer, config.STORAGE_PUBLIC_URL);
  await local.init();
  return local;
}

@Injectable()
class StorageLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Storage');

  constructor(@Inject(ObjectStorage) private readonly storage: ObjectStorage) {}

  onApplicationBootstrap(): void {
    if (!(this.storage instanceof LocalObjectStorage)) return;
    // In the background: a large store takes a while to walk, and nothing waits for it.
    this.storage
      .sweep(SWEEP_AFTER_MS)
      .then((removed) => removed > 0 && this.logger.log(`removed ${removed} leftover temporary files`))
      .catch((error: Error) => this.logger.warn(`temporary-file sweep failed: ${error.message}`));
  }

  onApplicationShutdown(): void {
    this.storage.close();
  }
}

/**
 * Object storage for every module (global: documents, packages and exports inject `ObjectStorage`). The API
 * also serves the tenant endpoints, the Launchpad aliases and the local store's signed URLs; the worker gets
 * the store alone (it signs no URLs: the key derives from JWT_SECRET, which only the API holds).
 */
@Module({})
export class StorageModule {
  static forRoot(role: 'api' | 'worker'): DynamicModule {
    const api = role === 'api';
    return {
      module: StorageModule,
      global: true,
      controllers: api ? [StorageController, LaunchpadStorageController, SignedObjectController] : [],
      providers: [
        {
          provide: ObjectStorage,
          useFactory: createObjectStorage,
          inject: [StorageConfig, { token: StorageUrlSigner, optional: true }],
        },
        StorageLifecycle,
        ...(api
          ? [
              {
                provide: StorageUrlSigner,
                useFactory: (auth: AuthConfig) => new StorageUrlSigner(auth.JWT_SECRET),
                inject: [AuthConfig],
              },
              StorageService,
              SignedUrlGuard,
            ]
          : []),
      ],
      exports: [ObjectStorage],
    };
  }
}
