import { IsArray, IsOptional, IsString, Matches } from 'class-validator';
import { EnvList } from './config.loader';

const KEY = /^([0-9a-fA-F]{64}|[A-Za-z0-9+/_-]{43}=?)$/;
const KEY_MESSAGE = 'must be 32 bytes as 64 hex digits or base64 (openssl rand -base64 32)';

/** Secrets at rest (webhook secrets): AES-256-GCM under a key with an id, so the key can be rotated. */
export class SecretsConfig {
  /**
   * The key new secrets are sealed with: 32 random bytes, hex or base64 (`openssl rand -base64 32`). Required when
   * NODE_ENV=production; elsewhere unset means a fixed development key (`npm start` generates one into
   * `.data/secrets-key`).
   */
  @IsOptional()
  @Matches(KEY, { message: KEY_MESSAGE })
  SECRETS_KEY?: string;

  /**
   * Retired keys, comma-separated, still accepted for reading: set the old key here and a new `SECRETS_KEY`, then
   * run `npm run secrets:rotate` to re-seal every stored secret under the new one.
   */
  @IsArray()
  @IsString({ each: true })
  @Matches(KEY, { each: true, message: KEY_MESSAGE })
  @EnvList()
  SECRETS_PREVIOUS_KEYS: string[] = [];
}
