import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app.config';
import { SecretsConfig } from '../config/secrets.config';
import { SecretCipher } from './secret-cipher';

/** The one cipher for secrets at rest, injectable by its class. */
@Global()
@Module({
  providers: [
    {
      provide: SecretCipher,
      inject: [SecretsConfig, AppConfig],
      useFactory: (config: SecretsConfig, app: AppConfig) => SecretCipher.fromConfig(config, app),
    },
  ],
  exports: [SecretCipher],
})
export class SecretsModule {}
