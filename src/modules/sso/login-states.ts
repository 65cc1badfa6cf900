import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RedisConfig } from '../../core/config/redis.config';
import { SsoConfig } from '../../core/config/sso.config';
import { InjectRedis } from '../../core/queue/redis.provider';

/** What a login started with, kept server-side until its callback: the PKCE verifier never leaves the API. */
export interface LoginState {
  provider: string;
  code_verifier: string;
  nonce: string;
  callback_url: string;
  redirect_uri?: string;
}

/** Login states in Redis under their `state` value: short-lived and single use (read and deleted at once). */
@Injectable()
export class LoginStates {
  constructor(
    @InjectRedis() private readonly redis: Redis,
    private readonly redisConfig: RedisConfig,
    private readonly config: SsoConfig,
  ) {}

  private key(state: string): string {
    return `${this.redisConfig.QUEUE_PREFIX}:sso:state:${state}`;
  }

  async save(state: string, value: LoginState): Promise<void> {
    await this.redis.set(
      this.key(state),
      JSON.stringify(value),
      'EX',
      this.config.SSO_STATE_TTL_SECONDS,
      'NX',
    );
  }

  /** The state's login, once: a second callback with the same state finds nothing. */
  async take(state: string): Promise<LoginState | undefined> {
    const raw = await this.redis.getdel(this.key(state));
    return raw ? (JSON.parse(raw) as LoginState) : undefined;
  }
}
