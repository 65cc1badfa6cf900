import { randomBytes } from 'node:crypto';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { AuthConfig } from '../../core/config/auth.config';
import { UsersService } from './users.service';

/**
 * On the API's first start: the platform admin from ADMIN_EMAIL / ADMIN_PASSWORD (or a generated password, kept
 * in `generated` for the process to print once, after its boot lines).
 */
@Injectable()
export class AdminBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger('AdminBootstrap');
  generated?: { email: string; password: string };

  constructor(
    private readonly users: UsersService,
    private readonly config: AuthConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const password = this.config.ADMIN_PASSWORD ?? randomBytes(12).toString('base64url');
    const created = await this.users
      .ensurePlatformAdmin(this.config.ADMIN_EMAIL, password)
      .catch((error: Error) => {
        // Two API processes starting together: the other one created it (unique email).
        if ((error as { code?: string }).code === '23505') return false;
        throw error;
      });
    if (!created) return;
    this.logger.log(`created platform admin ${this.config.ADMIN_EMAIL}`);
    if (!this.config.ADMIN_PASSWORD) this.generated = { email: this.config.ADMIN_EMAIL, password };
  }
}
