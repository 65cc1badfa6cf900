import { Injectable } from '@nestjs/common';
import jwt from 'jsonwebtoken';
import { AuthConfig } from '../config/auth.config';
import type { Principal } from './principal';

export const CONFLUX_ISSUER = 'conflux';

export interface IssuedToken {
  token: string;
  token_type: 'Bearer';
  expires_in: number;
}

/** Conflux's own tokens (HS256, `iss: conflux`), carrying the tenant claims the guard reads back. */
@Injectable()
export class TokenService {
  constructor(private readonly config: AuthConfig) {}

  issue(principal: Principal): IssuedToken {
    const claims = {
      role: principal.role,
      ...(principal.tenant_id ? { tenant_id: principal.tenant_id } : {}),
      ...(principal.email ? { email: principal.email } : {}),
    };
    const token = jwt.sign(claims, this.config.JWT_SECRET, {
      algorithm: 'HS256',
      subject: principal.user_id,
      issuer: CONFLUX_ISSUER,
      expiresIn: this.config.JWT_EXPIRES_IN_SECONDS,
      ...(this.config.JWT_AUDIENCE ? { audience: this.config.JWT_AUDIENCE } : {}),
    });
    return { token, token_type: 'Bearer', expires_in: this.config.JWT_EXPIRES_IN_SECONDS };
  }
}
