import { Module } from '@nestjs/common';
import { DatasetRepository } from './dataset.repository';

/** Tenant datasets (schema + restricted role); the SQL endpoints arrive here with the data issue. */
@Module({
  providers: [DatasetRepository],
  exports: [DatasetRepository],
})
export class DataModule {}
