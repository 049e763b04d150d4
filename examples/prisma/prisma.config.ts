// For the Prisma CLI. `prisma generate` needs no database; `prisma migrate` does, through the
// native schema engine and a URL: run it as `npx dbswitch exec -- npx prisma migrate deploy`,
// which sets DATABASE_URL (a forwarded port on 127.0.0.1 when DB_TYPE=ssh).
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env['DATABASE_URL'] },
});
