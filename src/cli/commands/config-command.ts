import type { Command } from 'commander';
import type { ConfigSource } from '../../config/config.js';
import { explainConfig } from '../../config/load-config.js';
import { settings } from '../../config/schema.js';
import { printer, type CliIo } from '../cli-io.js';

const MASK = '********';

/** `dbswitch config`: the resolved configuration, where each value came from, secrets masked. */
export function registerConfigCommand(program: Command, io: CliIo): void {
  program
    .command('config')
    .description('show the resolved configuration and the source of each value (secrets masked)')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) => {
      const { config, sources } = explainConfig({ env: io.env, cwd: io.cwd });
      const rows = settings.map((setting) => {
        const raw = (config[setting.section] as Record<string, unknown>)[setting.name];
        const value = raw === undefined ? undefined : setting.sensitive === true ? MASK : raw;
        return { key: setting.key, env: setting.env, value, source: describeSource(sources.get(setting.key)) };
      });
      const print = printer(io.stdout);
      if (options.json === true) {
        print(JSON.stringify(rows, null, 2));
        return;
      }
      const width = Math.max(...rows.map((row) => row.key.length));
      const valueWidth = Math.max(...rows.map((row) => display(row.value).length));
      for (const row of rows) {
        print(`${row.key.padEnd(width)}  ${display(row.value).padEnd(valueWidth)}  ${row.source}`);
      }
    });
}

function display(value: unknown): string {
  return value === undefined ? '(unset)' : JSON.stringify(value).replace(/^"(.*)"$/, '$1');
}

function describeSource(source: ConfigSource | undefined): string {
  switch (source?.kind) {
    case undefined:
    case 'default':
      return 'default';
    case 'file':
      return `file ${source.path}`;
    case 'code':
      return 'code';
    case 'env':
      return `env ${source.name}`;
    case 'dotenv':
      return `${source.path} ${source.name}`;
  }
}
