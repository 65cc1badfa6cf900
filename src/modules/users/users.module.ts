import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AdminBootstrap } from './admin-bootstrap';
import { AuthController } from './auth.controller';
import { MembershipEntity } from './entities/membership.entity';
import { PlatformAdminEntity } from './entities/platform-admin.entity';
import { LaunchpadUsersController } from './launchpad-users.controller';
import { UserEntity } from './entities/user.entity';
import { UsersController } from './users.controller';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

@Module({
  imports: [TypeOrmModule.forFeature([UserEntity, MembershipEntity, PlatformAdminEntity])],
  controllers: [AuthController, UsersController, LaunchpadUsersController],
  providers: [UsersRepository, UsersService, AdminBootstrap],
  exports: [UsersService],
})
export class UsersModule {}
