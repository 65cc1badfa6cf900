import { Logger, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  DEV_SIGNING_KEY_FILE,
  loadSigningKey,
  parsePublicKey,
  SigningConfig,
} from '../../core/config/signing.config';
import { WorkflowsModule } from '../workflows/workflows.module';
import { ArtifactEntity } from './entities/artifact.entity';
import { LaunchpadPackagesController } from './launchpad-packages.controller';
import { PackageSigner } from './package-signer';
import { PackagesController } from './packages.controller';
import { PackagesMetrics } from './packages.metrics';
import { PackagesRepository } from './packages.repository';
import { PackagesService } from './packages.service';

/** The deployment's signer; a development key generated on this start is announced with its key id. */
function createSigner(config: SigningConfig): PackageSigner {
  const key = loadSigningKey(config);
  const logger = new Logger('Packages');
  if (key.source === 'generated')
    logger.log(`generated a development signing key in ${DEV_SIGNING_KEY_FILE}; key id ${key.keyId}`);
  else
    logger.log(
      `signing packages with key ${key.keyId} (${key.source === 'development' ? DEV_SIGNING_KEY_FILE : key.source})`,
    );
  return new PackageSigner(key, config.WPK_TRUSTED_KEYS.map(parsePublicKey));
}

/** Signed workflow packages (API only): /wpk/* and the Launchpad aliases /api/wpk/*. */
@Module({
  imports: [TypeOrmModule.forFeature([ArtifactEntity]), WorkflowsModule],
  controllers: [PackagesController, LaunchpadPackagesController],
  providers: [
    { provide: PackageSigner, useFactory: createSigner, inject: [SigningConfig] },
    PackagesRepository,
    PackagesMetrics,
    PackagesService,
  ],
})
export class PackagesModule {}
