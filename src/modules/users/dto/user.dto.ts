import { IsEmail, IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { TENANT_ROLES, type Role, type TenantRole } from '../../../core/auth/principal';

export class LoginDto {
  @IsEmail()
  email: string;

  @IsString()
  @MaxLength(200)
  password: string;
}

export class TokenResponse {
  /** A Conflux JWT (HS256) carrying `tenant_id` and `role`. */
  token: string;
  token_type: 'Bearer';
  /** Seconds until it expires. */
  expires_in: number;
}

export class MeResponse {
  role: Role;
  via: 'jwt' | 'api_key' | 'bypass' | 'webhook';
  tenant_id?: string;
  user_id?: string;
  api_key_id?: string;
  email?: string;
}

export class CreateUserDto {
  @IsEmail()
  @MaxLength(320)
  email: string;

  /** Optional: without one the user cannot log in with a password. */
  @IsOptional()
  @IsString()
  @MinLength(8)
  @MaxLength(200)
  password?: string;

  @IsIn(TENANT_ROLES)
  role: TenantRole;
}

export class UserResponse {
  id: string;
  email: string;
  role: TenantRole;
  created_at: string;
}

export class UserPage {
  items: UserResponse[];
  total: number;
}
