import type { Command } from 'commander';
import { runCheck, type CheckReport } from '../../diagnostics/run-check.js';
import { DbSwitchError } from '../../errors.js';
import { printer, type CliIo } from '../cli-io.js';
import { openDb } from '../open-db.js';

/** `dbswitch check`: connect through the configured provider and report each hop. */
export function registerCheckCommand(program: Command, io: CliIo): void {
  program
    .command('check')
    .description('connect through the configured provider and report each hop; exit 1 on failure')
    .option('--json', 'print JSON (also on failure)')
    .action(async (options: { json?: boolean }) => {
      const json = options.json === true;
      try {
        const db = await openDb(io);
        try {
          const report = await runCheck(db);
          printer(io.stdout)(...(json ? [JSON.stringify({ ok: true, ...report }, null, 2)] : formatReport(report)));
        } finally {
          await db.close();
        }
      } catch (err) {
        if (!json) throw err;
        // Scripts read one JSON document from stdout whatever happened.
        const error = err instanceof DbSwitchError ? { code: err.code, message: err.message } : { code: 'EUNKNOWN', message: err instanceof Error ? err.message : String(err) };
        printer(io.stdout)(JSON.stringify({ ok: false, error }, null, 2));
        io.status.code = 1;
      }
    });
}

/** The report as lines for a terminal. */
export function formatReport(report: CheckReport): string[] {
  const lines = [`dbswitch check (DB_TYPE=${report.type})`];
  for (const hop of report.route) lines.push(`  ok  ${hop.name} ${hop.address}${hop.detail === undefined ? '' : ` (${hop.detail})`}`);
  const transport =
    report.transport.kind === 'tcp' ? `TCP, the server sees ${report.transport.seenAs}` : `unix socket, the server sees ${report.transport.seenAs}`;
  const tls =
    report.tls === null
      ? 'not encrypted'
      : `${report.tls.version} ${report.tls.cipher}, certificate from ${report.tls.issuer ?? 'unknown issuer'}, ${report.tls.verified ? 'verified' : 'not verified'}`;
  lines.push(
    `  server     ${report.serverVersion}`,
    `  user       ${report.user}`,
    `  auth       ${report.auth.method}${report.auth.token === undefined ? '' : ` (token signed for ${report.auth.token.signedFor}, user ${report.auth.token.user}, valid until ${report.auth.token.expiresAt.toISOString()})`}`,
    `  transport  ${transport}`,
    `  tls        ${tls}`,
    `  timings    connect ${report.timings.connectMs} ms, first query ${report.timings.queryMs} ms`,
  );
  return lines;
}
