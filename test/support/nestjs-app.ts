// A NestJS application over dbswitch/nestjs, for test/frameworks/nestjs.test.ts. It is compiled
// in the consumer project as CommonJS with Nest's usual tsconfig (decorators and their metadata)
// against the packed package, and run with node; it imports dbswitch by its package name only.
// It listens on 127.0.0.1:PORT (0: any free port) and prints {"port": n} when ready.
import 'reflect-metadata';
import {
  Controller,
  ForbiddenException,
  Get,
  Inject,
  Injectable,
  Module,
  Query,
  ServiceUnavailableException,
  UseGuards,
  UseInterceptors,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Db, DbSession, isDbSwitchError, type RowDataPacket } from 'dbswitch';
import { DbModule, InjectDbSession } from 'dbswitch/nestjs';
import { mergeMap, type Observable } from 'rxjs';

/**
 * What the tests read at /stats beside db.stats: sessions the integration made and how often
 * each was ended (release or abort), counted by wrapping the published classes' methods.
 */
const sessions = { created: 0, endedOnce: 0, endedAgain: 0, released: 0, aborted: 0 };
const ends = new WeakMap<object, number>();
/** How each /sleep handler's statement ended: 'ok' or the error's code. */
const sleeps: Record<string, number> = {};
/** The /sleep?id= of each session, and when each was aborted (epoch ms), by that id. */
const sleepIds = new WeakMap<object, number>();
const abortedAt: Record<number, number> = {};
/** The longest a /sleep handler waited for its statement to end, ms. */
let slowestSleepMs = 0;
/** /work handlers running now. */
let working = 0;
/** Requests received, by path (a request the client dropped before the server read it never counts). */
const received: Record<string, number> = {};

const makeSession: (this: Db) => Promise<DbSession> = Reflect.get(Db.prototype, 'session');
Object.defineProperty(Db.prototype, 'session', {
  value: async function session(this: Db): Promise<DbSession> {
    const made = await makeSession.call(this);
    sessions.created++;
    return made;
  },
});
for (const method of ['release', 'abort'] as const) {
  const end: (this: DbSession, reason?: unknown) => Promise<void> = Reflect.get(DbSession.prototype, method);
  Object.defineProperty(DbSession.prototype, method, {
    value: function counted(this: DbSession, reason?: unknown): Promise<void> {
      const id = sleepIds.get(this);
      if (method === 'abort' && id !== undefined) abortedAt[id] = Date.now();
      const count = (ends.get(this) ?? 0) + 1;
      ends.set(this, count);
      if (count === 1) {
        sessions.endedOnce++;
        sessions[method === 'release' ? 'released' : 'aborted']++;
      } else {
        sessions.endedAgain++;
      }
      return end.call(this, reason);
    },
  });
}

/** A request-scoped service beside the controller: it must get the controller's session. */
@Injectable()
class Repo {
  constructor(@InjectDbSession() readonly session: DbSession) {}

  async connectionId(): Promise<number> {
    const [rows] = await this.session.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS id');
    return Number(rows[0]?.['id']);
  }
}

/** Borrows the request's connection, then refuses the request. */
@Injectable()
class RefusingGuard implements CanActivate {
  constructor(@InjectDbSession() private readonly session: DbSession) {}

  async canActivate(): Promise<boolean> {
    await this.session.query('SELECT 1');
    throw new ForbiddenException('refused after a query');
  }
}

/** Lets the handler run (it queries), then fails the request. */
@Injectable()
class FailingInterceptor implements NestInterceptor {
  constructor(@InjectDbSession() private readonly session: DbSession) {}

  intercept(_context: ExecutionContext, next: CallHandler): Observable<never> {
    return next.handle().pipe(
      mergeMap(async () => {
        await this.session.query('SELECT 2');
        throw new ServiceUnavailableException('failed after the handler');
      }),
    );
  }
}

@Controller()
class SessionController {
  constructor(
    @InjectDbSession() private readonly session: DbSession,
    private readonly repo: Repo,
  ) {}

  @Get('quick')
  async quick(): Promise<{ x: number }> {
    const [rows] = await this.session.query<RowDataPacket[]>('SELECT 1 AS x');
    return { x: Number(rows[0]?.['x']) };
  }

  /** SLEEP(1), marked with the client's id so that the server's processlist tells which request it serves. */
  @Get('sleep')
  async sleep(@Query('id') id = '0'): Promise<{ slept: true }> {
    const started = Date.now();
    sleepIds.set(this.session, Number(id));
    try {
      await this.session.query(`SELECT SLEEP(1) /* sleep ${Number(id)} */`);
      sleeps['ok'] = (sleeps['ok'] ?? 0) + 1;
      return { slept: true };
    } catch (err) {
      const code = isDbSwitchError(err) ? err.code : 'other';
      sleeps[code] = (sleeps[code] ?? 0) + 1;
      throw err;
    } finally {
      slowestSleepMs = Math.max(slowestSleepMs, Date.now() - started);
    }
  }

  /** Holds the connection for `ms` and says which one it was. */
  @Get('conn')
  async conn(@Query('ms') ms = '0'): Promise<{ id: number }> {
    const [rows] = await this.session.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS id, SLEEP(?) AS s', [Number(ms) / 1000]);
    return { id: Number(rows[0]?.['id']) };
  }

  /** The controller's and the service's session: one object, one connection. */
  @Get('same')
  async same(): Promise<{ sameObject: boolean; controller: number; service: number }> {
    const [rows] = await this.session.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS id');
    return { sameObject: this.session === this.repo.session, controller: Number(rows[0]?.['id']), service: await this.repo.connectionId() };
  }

  /** A statement that runs `ms`, for the shutdown test. */
  @Get('work')
  async work(@Query('ms') ms = '300'): Promise<{ done: true }> {
    working++;
    try {
      await this.session.query('SELECT SLEEP(?)', [Number(ms) / 1000]);
      return { done: true };
    } finally {
      working--;
    }
  }

  @Get('guarded')
  @UseGuards(RefusingGuard)
  guarded(): { reached: true } {
    return { reached: true };
  }

  @Get('intercepted')
  @UseInterceptors(FailingInterceptor)
  async intercepted(): Promise<{ reached: true }> {
    await this.session.query('SELECT 1');
    return { reached: true };
  }

  /** The application's own cancel (not the client's): an error Nest handles as any other. */
  @Get('own-cancel')
  async ownCancel(): Promise<never> {
    await this.session.query({ sql: 'SELECT SLEEP(1)', signal: AbortSignal.timeout(50) });
    throw new Error('unreachable: the statement was cancelled');
  }

  /** A server error (a mysql2 error, not a DbSwitchError). */
  @Get('sql-error')
  async sqlError(): Promise<unknown> {
    const [rows] = await this.session.query('SELEC 1');
    return rows;
  }

  /** A route that never touches the session its controller was given. */
  @Get('idle')
  idle(): { idle: true } {
    return { idle: true };
  }
}

/** A singleton controller: no DB_SESSION, so its requests make no session at all. */
@Controller()
class StatsController {
  constructor(@Inject(Db) private readonly db: Db) {}

  @Get('stats')
  stats(): object {
    return { pool: this.db.stats, sessions, sleeps, slowestSleepMs, working, received, abortedAt };
  }
}

/** Stands in for a ConfigModule: forRootAsync injects from it. */
const SETTINGS = 'SETTINGS';
@Module({ providers: [{ provide: SETTINGS, useValue: { env: process.env } }], exports: [SETTINGS] })
// eslint-disable-next-line @typescript-eslint/no-extraneous-class -- a Nest module is a decorated class
class SettingsModule {}

@Module({
  imports: [
    DbModule.forRootAsync({
      imports: [SettingsModule],
      inject: [SETTINGS],
      useFactory: (settings: { env: NodeJS.ProcessEnv }) => ({ env: settings.env }),
    }),
  ],
  controllers: [SessionController, StatsController],
  providers: [Repo, RefusingGuard, FailingInterceptor],
})
// eslint-disable-next-line @typescript-eslint/no-extraneous-class -- a Nest module is a decorated class
class AppModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create(AppModule);
  app.use((req: { path: string }, _res: unknown, next: () => void) => {
    received[req.path] = (received[req.path] ?? 0) + 1;
    next();
  });
  // SIGTERM: Nest stops accepting, lets the requests in flight finish, then DbModule closes the
  // Db; useProcessExit makes the exit code 0 instead of a re-raised signal.
  app.enableShutdownHooks(['SIGTERM'], { useProcessExit: true });
  await app.listen(Number(process.env['PORT'] ?? 0), '127.0.0.1');
  console.log(JSON.stringify({ port: Number(new URL(await app.getUrl()).port) }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
