import { IsBoolean, IsInt, IsString, Matches, Min } from 'class-validator';
import { EnvBoolean } from './config.loader';

export class DatabaseConfig {
  @IsString({ message: 'is required (or use `npm start`, which starts an embedded PostgreSQL)' })
  @Matches(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// URL' })
  DATABASE_URL: string;

  /** The API runs pending migrations at boot unless this is false. */
  @IsBoolean()
  @EnvBoolean()
  MIGRATIONS_RUN: boolean = true;

  @IsInt()
  @Min(1)
  DATABASE_POOL_SIZE: number = 10;
}
