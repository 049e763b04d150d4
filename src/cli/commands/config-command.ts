import type { Command } from 'commander';
import type { ConfigSource } from '../../config/config.js';
import { inspectConfig, type ConfigInspection, type ConfigRow } from '../../config/inspect-config.js';
import { describeUnknownVariable } from '../../config/unknown-variables.js';
import { printer, type CliIo } from '../cli-io.js';

/**
 * `dbswitch config`: every setting with its value (secrets masked), where it came from and what
 * is wrong with it; then the `DB_*` / `SSH_*` variables dbswitch does not read; then every
 * problem. It shows all it can even when the configuration is invalid, and then sets the exit
 * status to 1. `--json` prints the same data as one JSON object.
 *
 * @param status where runCli reads the exit status from; default `io.status`.
 */
export function registerConfigCommand(program: Command, io: CliIo, status: { code: number } = io.status): void {
  program
    .command('config')
    .description('show the resolved configuration, the source of each value and any problem (secrets masked)')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) => {
      const inspection = inspectConfig({ env: io.env, cwd: io.cwd });
      const print = printer(io.stdout);
      if (options.json === true) print(JSON.stringify(asJson(inspection), null, 2));
      else print(...asText(inspection));
      if (inspection.problems.length > 0) status.code = 1;
    });
}

function asJson(inspection: ConfigInspection): object {
  return {
    valid: inspection.problems.length === 0,
    // JSON has no undefined: an unset value is null, so every row has the same fields.
    rows: inspection.rows.map((row) => ({ ...row, value: row.value ?? null, problem: row.problem ?? null })),
    unknownVariables: inspection.unknownVariables,
    problems: inspection.problems,
  };
}

function asText(inspection: ConfigInspection): string[] {
  const table = inspection.rows.map((row) => [row.key, display(row.value), describeSource(row.source), row.problem === undefined ? '' : `<- ${row.problem}`]);
  const widths = [0, 1, 2].map((column) => Math.max(...table.map((cells) => (cells[column] ?? '').length)));
  const lines = table.map((cells) => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd());
  if (inspection.unknownVariables.length > 0) {
    lines.push('', 'Unknown variables (not read by dbswitch):', ...inspection.unknownVariables.map((variable) => `  ${describeUnknownVariable(variable)}`));
  }
  if (inspection.problems.length > 0) {
    const count = inspection.problems.length === 1 ? '1 problem' : `${inspection.problems.length} problems`;
    lines.push('', `Invalid configuration (${count}):`, ...inspection.problems.map((problem) => `  - ${problem}`));
  } else {
    lines.push('', 'Configuration is valid.');
  }
  return lines;
}

function display(value: ConfigRow['value']): string {
  if (value === undefined) return '(unset)';
  // A multi-line value (DB_INIT_SQL) would break the table: show it escaped.
  return typeof value === 'string' && /[\r\n\t]/.test(value) ? JSON.stringify(value) : String(value);
}

function describeSource(source: ConfigSource): string {
  switch (source.kind) {
    case 'default':
      return 'default';
    case 'file':
      return `file ${source.path}`;
    case 'code':
      return 'code';
    case 'env':
      return `env ${source.name}`;
    case 'dotenv':
      return `${source.name} in ${source.path}`;
  }
}
