// The Prisma 7 harness of test/orm/prisma-client.test.ts: a program in the consumer project,
// compiled against the published package and its generated client (HARNESS_SCHEMA), run once per
// provider with DB_TYPE and the DB_* / SSH_* / AWS_* variables as its whole configuration. It runs
// CRUD, raw queries, constraint errors, committed, rolled-back and killed transactions, and
// prints what it saw as one line, `RESULT <json>`.
import { createDb } from 'dbswitch';
import { PrismaDbSwitch } from 'dbswitch/prisma';

// The generated client is typed in the consumer project; this repository type-checks the harness
// against the slice of it the harness uses.
type Row = Record<string, unknown>;
interface Delegate {
  create(args: object): Promise<Row>;
  findUnique(args: object): Promise<Row | null>;
  findMany(args: object): Promise<Row[]>;
  update(args: object): Promise<Row>;
  deleteMany(args: object): Promise<{ count: number }>;
  count(args?: object): Promise<number>;
}
interface Client {
  readonly account: Delegate;
  readonly order: Delegate;
  $transaction<T>(fn: (tx: Client) => Promise<T>, options?: { isolationLevel?: string; timeout?: number }): Promise<T>;
  $queryRaw<T>(strings: TemplateStringsArray, ...values: unknown[]): Promise<T>;
  $executeRawUnsafe(sql: string): Promise<number>;
  $disconnect(): Promise<void>;
}
interface GeneratedClient {
  PrismaClient: new (options: { adapter: PrismaDbSwitch }) => Client;
  Prisma: { Decimal: new (value: string) => unknown };
}
const GENERATED = './generated/prisma/client.js';
const { PrismaClient, Prisma } = (await import(GENERATED)) as GeneratedClient;

const report: Record<string, unknown> = {};
const email = `ada-${process.env['RUN_TAG'] ?? 'run'}@example.com`;

/** The error as the application sees it: Prisma's code, or dbswitch's. */
function described(err: unknown): Row {
  const { name, code, message } = err as { name?: string; code?: string; message?: string };
  return { name, code, message: message?.trim().split('\n').at(-1) };
}

async function failure(work: () => Promise<unknown>): Promise<Row | undefined> {
  try {
    await work();
    return undefined;
  } catch (err) {
    return described(err);
  }
}

const db = await createDb();
const prisma = new PrismaClient({ adapter: new PrismaDbSwitch(db) });
try {
  // CRUD, with one value of every column family
  const created = await prisma.account.create({
    data: {
      email,
      name: 'Ada',
      role: 'ADMIN',
      balance: new Prisma.Decimal('12345678901234.5678'),
      big: 9007199254740993n,
      ratio: 0.25,
      active: false,
      born: new Date('2000-02-29T00:00:00Z'),
      wakeUp: new Date('1970-01-01T07:30:15.250Z'),
      seenAt: new Date('2024-05-06T07:08:09.123Z'),
      meta: { tags: ['a', 'b'], n: 1.5, nested: { ok: true } },
      avatar: Uint8Array.from([0, 1, 254, 255]),
      orders: { create: [{ label: 'first' }, { label: 'second' }] },
    },
    include: { orders: true },
  });
  const accountId = created['id'];
  report['created'] = created;
  report['found'] = await prisma.account.findUnique({ where: { email }, include: { orders: { orderBy: { id: 'asc' } } } });
  report['updated'] = await prisma.account.update({ where: { email }, data: { name: 'Ada Lovelace', big: { increment: 1 } }, select: { name: true, big: true } });
  report['deleted'] = await prisma.order.deleteMany({ where: { accountId, label: 'second' } });
  report['raw'] = await prisma.$queryRaw`SELECT 1 AS one, ${'text'} AS text, ${9007199254740993n} AS big, CAST(${'1.50'} AS DECIMAL(5,2)) AS num, JSON_OBJECT('k', 1) AS json`;

  // What the server refuses, as Prisma's codes
  report['duplicate'] = await failure(() => prisma.account.create({ data: { email } }));
  report['foreignKey'] = await failure(() => prisma.order.create({ data: { label: 'orphan', accountId: -1 } }));

  // Interactive transactions: committed, rolled back
  await prisma.$transaction(
    async (tx) => {
      await tx.order.create({ data: { label: 'committed', accountId } });
      await tx.account.update({ where: { email }, data: { ratio: 0.5 } });
    },
    { isolationLevel: 'Serializable' },
  );
  report['rolledBack'] = await failure(() =>
    prisma.$transaction(async (tx) => {
      await tx.order.create({ data: { label: 'rolled back', accountId } });
      throw new Error('rolled back on purpose');
    }),
  );

  // The connection under a transaction is killed (as a failover, a restart or wait_timeout would)
  report['killed'] = await failure(() =>
    prisma.$transaction(async (tx) => {
      await tx.order.create({ data: { label: 'lost with its connection', accountId } });
      const [row] = await tx.$queryRaw<{ id: bigint | number }[]>`SELECT CONNECTION_ID() AS id`;
      // From another connection of the pool: a user may kill its own connections.
      await prisma.$executeRawUnsafe(`KILL CONNECTION ${String(row?.id)}`);
      await tx.order.create({ data: { label: 'after the kill', accountId } });
    }),
  );
  report['labels'] = (await prisma.order.findMany({ where: { accountId }, orderBy: { id: 'asc' }, select: { label: true } })).map((order) => order['label']);
  report['ratio'] = (await prisma.account.findUnique({ where: { email }, select: { ratio: true } }))?.['ratio'];

  // $disconnect() gives back what Prisma holds and leaves the Db open; the client connects again
  await prisma.$disconnect();
  const [rows] = await db.withSession((s) => s.query('SELECT 1 AS ok'));
  report['dbAfterDisconnect'] = rows;
  report['countAfterReconnect'] = await prisma.order.count({ where: { accountId } });
  await prisma.$disconnect();
  await new Promise((resolve) => setTimeout(resolve, 100));
  report['stats'] = db.stats;
} finally {
  await prisma.$disconnect();
  await db.close();
}
report['afterClose'] = await failure(() => prisma.account.count());

console.log(
  `RESULT ${JSON.stringify(report, (_key, value: unknown) => {
    if (typeof value === 'bigint') return `${value.toString()}n`;
    if (value instanceof Uint8Array) return [...value];
    return value;
  })}`,
);
