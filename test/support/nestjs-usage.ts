// Every public name of dbswitch/nestjs as an application uses it, for the compile tests of
// test/frameworks/nestjs-types.test.ts (CommonJS and ESM projects, strict or `nest new`'s loose
// settings). Not run.
import { Controller, Get, Inject, Injectable, Module, Param } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Db, DbSession, type CreateDbOptions, type PoolStats, type RowDataPacket } from 'dbswitch';
import { DB_SESSION, DbExceptionFilter, DbModule, InjectDbSession, type DbModuleAsyncOptions } from 'dbswitch/nestjs';

@Injectable()
export class UsersRepository {
  constructor(@InjectDbSession() private readonly session: DbSession) {}

  async find(id: string): Promise<RowDataPacket | undefined> {
    const [rows] = await this.session.query<RowDataPacket[]>('SELECT id, name FROM users WHERE id = ?', [id]);
    return rows[0];
  }

  rename(id: string, name: string): Promise<void> {
    return this.session.transaction(async (tx) => {
      await tx.execute('UPDATE users SET name = ? WHERE id = ?', [name, id]);
    }, { isolationLevel: 'READ COMMITTED' });
  }
}

@Controller('users')
export class UsersController {
  constructor(
    private readonly users: UsersRepository,
    @Inject(DB_SESSION) private readonly session: DbSession,
    @Inject(Db) private readonly db: Db,
  ) {}

  @Get(':id')
  find(@Param('id') id: string): Promise<RowDataPacket | undefined> {
    return this.users.find(id);
  }

  @Get()
  async stats(): Promise<PoolStats> {
    await this.session.query('SELECT 1');
    return this.db.stats;
  }
}

const CONFIG = 'CONFIG';

@Module({ providers: [{ provide: CONFIG, useValue: { tenant: 'app' } }], exports: [CONFIG] })
// eslint-disable-next-line @typescript-eslint/no-extraneous-class -- a Nest module is a decorated class
export class ConfigModule {}

const asyncOptions: DbModuleAsyncOptions = {
  imports: [ConfigModule],
  inject: [CONFIG],
  useFactory: (config: { tenant: string }): CreateDbOptions => ({ env: { ...process.env, DB_NAME: config.tenant } }),
};

@Module({ imports: [DbModule.forRootAsync(asyncOptions)], controllers: [UsersController], providers: [UsersRepository] })
// eslint-disable-next-line @typescript-eslint/no-extraneous-class -- a Nest module is a decorated class
export class AsyncAppModule {}

@Module({
  imports: [DbModule.forRoot({ env: { DB_TYPE: 'basic', DB_USER: 'app' }, cwd: '.' })],
  controllers: [UsersController],
  providers: [UsersRepository],
})
// eslint-disable-next-line @typescript-eslint/no-extraneous-class -- a Nest module is a decorated class
export class AppModule {}

export const plain = DbModule.forRoot();
export const factoryOnly = DbModule.forRootAsync({ useFactory: async () => Promise.resolve({}) });

export async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule);
  app.useGlobalFilters(app.get(DbExceptionFilter));
  app.enableShutdownHooks();
  await app.listen(3000);
}
