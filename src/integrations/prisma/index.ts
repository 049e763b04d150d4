// dbswitch/prisma: Prisma 7's driver adapter (provider "mysql") over a Db's pool, so Prisma's
// queries reach the database the way DB_TYPE says (basic, aws, ssh). Depends on
// @prisma/driver-adapter-utils (an optional peer dependency), which the core never imports.
export { PrismaDbSwitch, type PrismaDbSwitchOptions } from './prisma-dbswitch.js';
export type { PoolSource } from './pool-slice.js';
