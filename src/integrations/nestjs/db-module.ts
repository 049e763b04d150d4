import {
  Global,
  Inject,
  Module,
  Scope,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type FactoryProvider,
  type MiddlewareConsumer,
  type ModuleMetadata,
  type NestModule,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { APP_FILTER, REQUEST } from '@nestjs/core';
import { createDb, type CreateDbOptions } from '../../db/create-db.js';
import { Db } from '../../db/db.js';
import type { DbSession } from '../../db-session.js';
import { DbExceptionFilter } from './db-exception-filter.js';
import { DbSessionMiddleware, requestSession } from './request-session.js';
import { ResponseDrain } from './response-drain.js';

/**
 * The injection token of the request's {@link DbSession}: one per HTTP request, made when first
 * injected, borrowing a connection on its first statement, released when the response has been
 * sent, aborted when the client goes away first (a running statement is killed on the server).
 * Injecting it makes the consumer request-scoped, as any request-scoped provider does in Nest.
 *
 * @example
 * @Controller('users')
 * export class UsersController {
 *   constructor(@Inject(DB_SESSION) private readonly db: DbSession) {}
 * }
 */
export const DB_SESSION: unique symbol = Symbol('dbswitch:DB_SESSION');

/**
 * Injects the request's {@link DbSession} (the {@link DB_SESSION} token).
 *
 * @example
 * @Controller('users')
 * export class UsersController {
 *   constructor(@InjectDbSession() private readonly db: DbSession) {}
 *
 *   @Get(':id')
 *   async find(@Param('id') id: string) {
 *     const [rows] = await this.db.query<RowDataPacket[]>('SELECT * FROM users WHERE id = ?', [id]);
 *     return rows[0];
 *   }
 * }
 */
export function InjectDbSession(): PropertyDecorator & ParameterDecorator {
  return Inject(DB_SESSION);
}

/**
 * {@link DbModule.forRootAsync}'s options, the shape of `@nestjs/typeorm`'s: a factory of
 * `createDb()`'s options, with what it injects.
 *
 * @example
 * DbModule.forRootAsync({
 *   imports: [ConfigModule],
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({ env: { ...process.env, DB_NAME: config.get('tenant') } }),
 * })
 */
export interface DbModuleAsyncOptions {
  /** Modules whose providers `useFactory` injects. */
  readonly imports?: ModuleMetadata['imports'];
  /** The tokens whose values `useFactory` receives, in order. */
  readonly inject?: FactoryProvider['inject'];
  /** Returns the options of `createDb()` (where the configuration comes from, a logger, `configure`). */
  readonly useFactory: (...args: never[]) => CreateDbOptions | Promise<CreateDbOptions>;
}

/** Where the options of createDb() wait for the Db provider. */
const DB_MODULE_OPTIONS = Symbol('dbswitch:DbModuleOptions');

/**
 * dbswitch in a NestJS application: the {@link Db} as a singleton provider (inject it by its
 * class), made by `createDb()` at bootstrap and closed in `onApplicationShutdown` (with
 * `app.enableShutdownHooks()`, a SIGTERM lets Nest finish the requests in flight, then the Db
 * drains and closes); the request's {@link DbSession} under {@link DB_SESSION}; and
 * {@link DbExceptionFilter}, which keeps requests the client abandoned out of the error log.
 * Global: import it once, in the root module.
 *
 * @example
 * @Module({ imports: [DbModule.forRoot()], controllers: [UsersController] })
 * export class AppModule {}
 *
 * const app = await NestFactory.create(AppModule);
 * app.enableShutdownHooks();
 */
@Global()
@Module({})
export class DbModule implements NestModule, BeforeApplicationShutdown, OnApplicationShutdown {
  readonly #db: Db;
  readonly #drain: ResponseDrain;

  constructor(@Inject(Db) db: Db, @Inject(ResponseDrain) drain: ResponseDrain) {
    this.#db = db;
    this.#drain = drain;
  }

  /**
   * The module with `createDb(options)`: by default the configuration comes from `process.env`,
   * `.env` and `config/dbswitch*.json` (DB_TYPE and friends), read once at bootstrap.
   *
   * @example
   * @Module({ imports: [DbModule.forRoot()] })                    // DB_TYPE=basic|aws|ssh from the env
   * @Module({ imports: [DbModule.forRoot({ logger: myPino })] })  // any option of createDb()
   */
  static forRoot(options: CreateDbOptions = {}): DynamicModule {
    return dbModule([], { provide: DB_MODULE_OPTIONS, useValue: options });
  }

  /**
   * The module with `createDb()`'s options from a factory that injects other providers (a
   * ConfigService, a secret loaded at start-up).
   *
   * @example
   * DbModule.forRootAsync({
   *   imports: [ConfigModule],
   *   inject: [ConfigService],
   *   useFactory: (config: ConfigService) => ({ env: config.get('database') }),
   * })
   */
  static forRootAsync(options: DbModuleAsyncOptions): DynamicModule {
    const factory = options.useFactory as (...args: unknown[]) => CreateDbOptions | Promise<CreateDbOptions>;
    return dbModule(options.imports ?? [], { provide: DB_MODULE_OPTIONS, useFactory: factory, inject: options.inject ?? [] });
  }

  /** Watches every request from its start, before guards and interceptors run. */
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(DbSessionMiddleware).forRoutes('*');
  }

  /**
   * Before Nest closes the HTTP server: each connection closes after its response in flight, so
   * the server's close ends with the last of them, not a keepAliveTimeout later.
   */
  beforeApplicationShutdown(): void {
    this.#drain.drain();
  }

  /** After Nest has closed the HTTP server (requests in flight done): drain and close the Db. */
  async onApplicationShutdown(): Promise<void> {
    await this.#db.close();
  }
}

/** The dynamic module, whichever way its options come. */
function dbModule(imports: NonNullable<ModuleMetadata['imports']>, options: Provider): DynamicModule {
  return {
    module: DbModule,
    global: true,
    imports,
    providers: [
      options,
      { provide: Db, useFactory: (createOptions: CreateDbOptions) => createDb(createOptions), inject: [DB_MODULE_OPTIONS] },
      {
        provide: DB_SESSION,
        scope: Scope.REQUEST,
        useFactory: (request: unknown, db: Db): Promise<DbSession> => requestSession(db, request).session(),
        inject: [REQUEST, Db],
      },
      ResponseDrain,
      DbExceptionFilter,
      { provide: APP_FILTER, useExisting: DbExceptionFilter },
    ],
    exports: [Db, DB_SESSION, DbExceptionFilter],
  };
}
