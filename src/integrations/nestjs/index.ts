// dbswitch/nestjs: DbModule.forRoot() / forRootAsync(), the Db as a singleton closed on
// application shutdown, and a DbSession per HTTP request under DB_SESSION. A thin adapter over
// the core, which imports nothing of Nest; @nestjs/common, @nestjs/core and rxjs are optional
// peer dependencies.
export { DbModule, DB_SESSION, InjectDbSession, type DbModuleAsyncOptions } from './db-module.js';
export { DbExceptionFilter } from './db-exception-filter.js';
