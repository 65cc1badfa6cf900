import { Injectable } from '@nestjs/common';
import { Transactions } from '../../core/database/transaction';

export interface SsoIdentity {
  issuer: string;
  subject: string;
  provider: string;
  user_id: string;
}

/** Table `sso_identities`: one provider identity (`iss` + `sub`) names one user. */
@Injectable()
export class SsoRepository {
  constructor(private readonly tx: Transactions) {}

  async find(issuer: string, subject: string): Promise<SsoIdentity | undefined> {
    const [row] = await this.tx.rows<SsoIdentity>(
      'SELECT issuer, subject, provider, user_id FROM sso_identities WHERE issuer = $1 AND subject = $2',
      [issuer, subject],
    );
    return row;
  }

  /** False when the identity is linked already (a concurrent first login won). */
  async link(identity: SsoIdentity, email: string | null): Promise<boolean> {
    const rows = await this.tx.rows<{ user_id: string }>(
      `INSERT INTO sso_identities (issuer, subject, provider, user_id, email) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (issuer, subject) DO NOTHING RETURNING user_id`,
      [identity.issuer, identity.subject, identity.provider, identity.user_id, email],
    );
    return rows.length > 0;
  }

  async touch(issuer: string, subject: string): Promise<void> {
    await this.tx.rows('UPDATE sso_identities SET last_login_at = now() WHERE issuer = $1 AND subject = $2', [
      issuer,
      subject,
    ]);
  }
}
