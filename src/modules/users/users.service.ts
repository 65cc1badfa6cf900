import { Injectable } from '@nestjs/common';
import { hashPassword, verifyPassword } from '../../core/auth/password';
import type { TenantRole } from '../../core/auth/principal';
import { type IssuedToken, TokenService } from '../../core/auth/token.service';
import { Transactions } from '../../core/database/transaction';
import type { Page } from '../../core/http/pagination';
import { AuditService } from '../audit/audit.service';
import type { UserResponse } from './dto/user.dto';
import { EmailTakenException, InvalidLoginException, PlanLimitReachedException } from './users.exceptions';
import { type LoginRow, UsersRepository } from './users.repository';

export interface NewMember {
  email: string;
  password?: string;
  role: TenantRole;
}

@Injectable()
export class UsersService {
  constructor(
    private readonly repository: UsersRepository,
    private readonly tokens: TokenService,
    private readonly tx: Transactions,
    private readonly audit: AuditService,
  ) {}

  async login(email: string, password: string): Promise<IssuedToken> {
    const user = await this.repository.findForLogin(email);
    const ok = await verifyPassword(password, user?.password_hash);
    if (!user || !ok || (!user.is_admin && !user.tenant_id)) throw new InvalidLoginException();
    return this.issueToken(user);
  }

  /** A user's account (tenant, role, admin or not) by email or by id, for sign-in paths other than passwords. */
  account(by: { email: string } | { id: string }): Promise<LoginRow | undefined> {
    return 'email' in by ? this.repository.findForLogin(by.email) : this.repository.findAccountById(by.id);
  }

  /** A Conflux token with the account's tenant claims. */
  issueToken(user: LoginRow): IssuedToken {
    if (user.is_admin)
      return this.tokens.issue({ role: 'admin', via: 'jwt', user_id: user.id, email: user.email });
    return this.tokens.issue({
      role: user.role ?? 'viewer',
      via: 'jwt',
      tenant_id: user.tenant_id ?? undefined,
      user_id: user.id,
      email: user.email,
    });
  }

  /**
   * Adds a user to a tenant. The plan's team-member limit is checked under a lock on the tenant, so
   * concurrent invitations cannot exceed it. Onboarding's first owner skips the check.
   */
  createMember(
    tenantId: string,
    member: NewMember,
    options: { enforcePlanLimit: boolean } = { enforcePlanLimit: true },
  ): Promise<UserResponse> {
    return this.tx.run(async () => {
      const team = await this.repository.lockTeam(tenantId);
      if (await this.repository.emailExists(member.email)) throw new EmailTakenException(member.email);
      if (options.enforcePlanLimit && team && team.members >= team.limit) {
        throw new PlanLimitReachedException('team members', team.limit, team.plan);
      }
      const user = await this.repository.insertUser(
        member.email,
        member.password ? await hashPassword(member.password) : null,
      );
      await this.repository.insertMembership(tenantId, user.id, member.role);
      await this.audit.record({
        tenantId,
        eventType: 'user.created',
        resourceType: 'user',
        resourceId: user.id,
        details: { email: user.email, role: member.role },
      });
      return { id: user.id, email: user.email, role: member.role, created_at: user.created_at.toISOString() };
    });
  }

  async list(tenantId: string, offset: number, limit: number): Promise<Page<UserResponse>> {
    const [rows, total] = await this.repository.listMembers(tenantId, offset, limit);
    return { items: rows.map((row) => ({ ...row, created_at: row.created_at.toISOString() })), total };
  }

  countMembers(tenantId: string): Promise<number> {
    return this.repository.countMembers(tenantId);
  }

  /**
   * The first platform admin, on first start. Returns true when this call created it. Runs under the
   * migration-style guarantee that only one process wins: the email's unique index.
   */
  ensurePlatformAdmin(email: string, password: string): Promise<boolean> {
    return this.tx.run(async () => {
      if (await this.repository.hasPlatformAdmin()) return false;
      if (await this.repository.emailExists(email)) return false;
      const user = await this.repository.insertUser(email, await hashPassword(password));
      await this.repository.insertPlatformAdmin(user.id);
      await this.audit.record({
        tenantId: null,
        eventType: 'platform_admin.created',
        resourceType: 'user',
        resourceId: user.id,
        details: { email },
      });
      return true;
    });
  }
}
