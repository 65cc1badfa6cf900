import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from './src/core/config/config.loader';
import { DatabaseConfig } from './src/core/config/database.config';
import { dataSourceOptions } from './src/core/database/data-source.options';

/**
 * For the TypeORM CLI (`npm run migration:generate|run|revert`); the app builds the same options in
 * DatabaseModule. Needs DATABASE_URL.
 */
export default new DataSource({
  ...dataSourceOptions(loadConfig(DatabaseConfig, process.env)),
  entities: ['src/modules/**/entities/*.entity.ts'],
});
