import { Injectable, Logger } from '@nestjs/common';
import { DataConfig } from '../../core/config/data.config';
import { Transactions } from '../../core/database/transaction';
import { DatasetNotFoundException } from './data.exceptions';
import { SandboxRoleRepository } from './sandbox-roles.repository';
import { credentialContext, SandboxSecrets, scramVerifier } from './sandbox-secrets';
import { type RoleSetting, sandboxRoleSettings, sessionOptions } from './sandbox-settings';

/** What a sandbox pool of one tenant connects with. */
export interface SandboxLogin {
  user: string;
  password: string;
  /** The sealed form the password came from: names it when reporting it stale. */
  secret: string;
  /** The `options` startup parameter (session defaults matching the role's). */
  options: string;
}

/**
 * The tenant role as a sandbox session needs it: LOGIN with a password this process can read, and defaults that
 * match this process's DataConfig. Roles that onboarding made before this existed (or whose password was sealed
 * under another key) get a new password here, under a per-tenant lock so that processes agree on one.
 */
@Injectable()
export class SandboxAccess {
  private readonly logger = new Logger('DataSandbox');
  private tempFilesLimitable?: Promise<boolean>;
  private warnedTempFiles = false;

  constructor(
    private readonly roles: SandboxRoleRepository,
    private readonly secrets: SandboxSecrets,
    private readonly config: DataConfig,
    private readonly tx: Transactions,
  ) {}

  async login(tenantId: string): Promise<SandboxLogin> {
    const user = await this.roles.roleName(tenantId);
    const settings = await this.settings(tenantId);
    const stored = await this.roles.credential(tenantId);
    let password = stored ? this.open(tenantId, user, stored.secret, stored.key_id) : undefined;
    let secret = stored?.secret ?? '';
    if (password === undefined) ({ password, secret } = await this.renew(tenantId, stored?.secret));
    await this.align(tenantId, settings);
    return { user, password, secret, options: sessionOptions(settings) };
  }

  /**
   * A new password for the role, unless another process already replaced `stale` (then its password is used).
   * Called when no readable password is stored and when Postgres refused the stored one.
   */
  renew(tenantId: string, stale?: string): Promise<{ password: string; secret: string }> {
    return this.tx.run(async () => {
      await this.roles.lockCredential(tenantId);
      const user = await this.roles.roleName(tenantId);
      const current = await this.roles.credential(tenantId);
      if (current && current.secret !== stale) {
        const password = this.open(tenantId, user, current.secret, current.key_id);
        if (password !== undefined) return { password, secret: current.secret };
      }
      if (!(await this.roles.state(tenantId))) throw new DatasetNotFoundException(tenantId);
      this.logger.warn(
        current
          ? `tenant '${tenantId}': the stored sandbox password is unusable (another DATA_ENCRYPTION_KEY?); setting a new one`
          : `tenant '${tenantId}': its sandbox role has no password yet; setting one`,
      );
      const password = this.secrets.newPassword();
      await this.roles.setPassword(tenantId, scramVerifier(password));
      const secret = this.secrets.seal(password, credentialContext(tenantId, user));
      await this.roles.storeCredential(tenantId, secret, this.secrets.keyId);
      return { password, secret };
    });
  }

  private open(tenantId: string, user: string, secret: string, keyId: string): string | undefined {
    if (keyId !== this.secrets.keyId) return undefined;
    return this.secrets.open(secret, credentialContext(tenantId, user));
  }

  private async settings(tenantId: string): Promise<RoleSetting[]> {
    this.tempFilesLimitable ??= this.roles.mayLimitTempFiles();
    const limitable = await this.tempFilesLimitable;
    if (!limitable && !this.warnedTempFiles) {
      this.warnedTempFiles = true;
      this.logger.warn(
        'the database user may not set temp_file_limit on roles (superuser only): sandbox queries have no temporary-disk cap',
      );
    }
    return sandboxRoleSettings(this.config, `tenant_${tenantId}`, limitable);
  }

  /** Brings the role's defaults and connection limit in line with this process's config, when they differ. */
  private async align(tenantId: string, settings: RoleSetting[]): Promise<void> {
    const state = await this.roles.state(tenantId);
    if (!state) throw new DatasetNotFoundException(tenantId);
    const current = new Set(state.settings);
    const stale = settings.filter((s) => !current.has(s.stored));
    const limit = this.config.DATA_ROLE_CONNECTION_LIMIT;
    if (stale.length === 0 && state.can_login && state.connection_limit === limit) return;
    try {
      await this.tx.run(() => this.roles.configure(tenantId, stale, limit));
    } catch (error) {
      // The session's startup options still apply this process's values; only the role's own defaults lag.
      this.logger.warn(
        `tenant '${tenantId}': could not update its sandbox role: ${(error as Error).message}`,
      );
    }
  }
}
