import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PolicyEntity } from './entities/policy.entity';
import { LaunchpadPoliciesController } from './launchpad-policies.controller';
import { PoliciesController } from './policies.controller';
import { PoliciesRepository } from './policies.repository';
import { PoliciesService } from './policies.service';
import { PolicyCache } from './policy-cache';

/** Access policies; services import it for `PoliciesService.assert`. */
@Module({
  imports: [TypeOrmModule.forFeature([PolicyEntity])],
  controllers: [PoliciesController, LaunchpadPoliciesController],
  providers: [PoliciesRepository, PoliciesService, PolicyCache],
  exports: [PoliciesService],
})
export class PoliciesModule {}
