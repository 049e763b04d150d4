import { Module } from '@nestjs/common';
import { DbModule } from 'dbswitch/nestjs';
import { HealthController } from './health.controller';
import { ServerController } from './server.controller';

@Module({
  // createDb() at bootstrap: DB_TYPE=basic|aws|ssh and the other DB_* / SSH_* variables, from the
  // environment, .env or config/dbswitch.json. Nothing connects until the first statement.
  imports: [DbModule.forRoot()],
  controllers: [ServerController, HealthController],
})
export class AppModule {}
