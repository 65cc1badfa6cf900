import { Injectable } from '@nestjs/common';
import { Transactions } from '../../core/database/transaction';
import type { TenantRole } from '../../core/auth/principal';
import { MembershipEntity } from './entities/membership.entity';
import { PlatformAdminEntity } from './entities/platform-admin.entity';
import { UserEntity } from './entities/user.entity';

export interface LoginRow {
  id: string;
  email: string;
  password_hash: string | null;
  tenant_id: string | null;
  role: TenantRole | null;
  is_admin: boolean;
}

export interface MemberRow {
  id: string;
  email: string;
  role: TenantRole;
  created_at: Date;
}

@Injectable()
export class UsersRepository {
  constructor(private readonly tx: Transactions) {}

  findForLogin(email: string): Promise<LoginRow | undefined> {
    return this.findAccount('lower(u.email) = lower($1)', email);
  }

  /** By id: single sign-on knows the user from its linked identity. */
  findAccountById(userId: string): Promise<LoginRow | undefined> {
    return this.findAccount('u.id = $1', userId);
  }

  private async findAccount(where: string, value: string): Promise<LoginRow | undefined> {
    const rows = await this.tx.manager().query<LoginRow[]>(
      `SELECT u.id, u.email, u.password_hash, m.tenant_id, m.role, (a.user_id IS NOT NULL) AS is_admin
         FROM users u
         LEFT JOIN memberships m ON m.user_id = u.id
         LEFT JOIN platform_admins a ON a.user_id = u.id
        WHERE ${where}`,
      [value],
    );
    return rows[0];
  }

  async emailExists(email: string): Promise<boolean> {
    const rows = await this.tx
      .manager()
      .query<unknown[]>('SELECT 1 FROM users WHERE lower(email) = lower($1)', [email]);
    return rows.length > 0;
  }

  insertUser(email: string, passwordHash: string | null): Promise<UserEntity> {
    const repo = this.tx.manager().getRepository(UserEntity);
    return repo.save(repo.create({ email, password_hash: passwordHash }));
  }

  insertMembership(tenantId: string, userId: string, role: TenantRole): Promise<MembershipEntity> {
    const repo = this.tx.manager().getRepository(MembershipEntity);
    return repo.save(repo.create({ tenant_id: tenantId, user_id: userId, role }));
  }

  async insertPlatformAdmin(userId: string): Promise<void> {
    await this.tx.manager().getRepository(PlatformAdminEntity).insert({ user_id: userId });
  }

  async hasPlatformAdmin(): Promise<boolean> {
    return (await this.tx.manager().getRepository(PlatformAdminEntity).count()) > 0;
  }

  /**
   * Locks the tenant row until the transaction ends (concurrent invitations queue up, so the plan limit
   * holds) and returns the plan's team limit with the current member count.
   */
  async lockTeam(tenantId: string): Promise<{ plan: string; limit: number; members: number } | undefined> {
    const manager = this.tx.manager();
    const rows = await manager.query<Array<{ plan: string; limit: number }>>(
      `SELECT p.code AS plan, p.team_members AS "limit"
         FROM tenants t JOIN plans p ON p.code = t.plan_code
        WHERE t.id = $1
          FOR UPDATE OF t`,
      [tenantId],
    );
    if (!rows[0]) return undefined;
    // A separate statement: under READ COMMITTED it sees the members committed by whoever held the lock
    // before us, which a subquery of the locking statement (its snapshot taken before the wait) would not.
    const members = await this.countMembers(tenantId);
    return { ...rows[0], members };
  }

  async listMembers(tenantId: string, offset: number, limit: number): Promise<[MemberRow[], number]> {
    const manager = this.tx.manager();
    const rows = await manager.query<MemberRow[]>(
      `SELECT u.id, u.email, m.role, u.created_at
         FROM memberships m JOIN users u ON u.id = m.user_id
        WHERE m.tenant_id = $1
        ORDER BY m.created_at, u.email
        OFFSET $2 LIMIT $3`,
      [tenantId, offset, limit],
    );
    const total = await manager.getRepository(MembershipEntity).count({ where: { tenant_id: tenantId } });
    return [rows, total];
  }

  countMembers(tenantId: string): Promise<number> {
    return this.tx
      .manager()
      .getRepository(MembershipEntity)
      .count({ where: { tenant_id: tenantId } });
  }
}
