import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKeyVerifier } from '../../core/auth/api-key';
import { ApiKeyCache } from './api-key-cache';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService } from './api-keys.service';
import { ApiKeyEntity } from './entities/api-key.entity';

/** Global so the auth core's API-key strategy finds its `ApiKeyVerifier`. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([ApiKeyEntity])],
  controllers: [ApiKeysController],
  providers: [
    ApiKeysRepository,
    ApiKeyCache,
    ApiKeysService,
    { provide: ApiKeyVerifier, useExisting: ApiKeysService },
  ],
  exports: [ApiKeysService, ApiKeyVerifier],
})
export class ApiKeysModule {}
