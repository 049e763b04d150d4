import convict from 'convict';
import type { ConfigShape } from './check-layer.js';
import type { Format } from './formats.js';
import { settings } from './schema.js';

/**
 * Merges checked layers with convict: schema defaults < each layer in order < the environment.
 *
 * What convict does here: defaults, the merge, the environment on top (`env`), coercion through
 * dbswitch's formats (registered by name, so convict's lenient `parseInt`/Boolean coercion
 * never runs), `sensitive` (convict leaves those values out of its own messages), and a final
 * strict validation.
 *
 * What it does not, and why: convict merges before it validates, so it cannot say which file
 * or variable a bad value came from; its validation is all or nothing, where `dbswitch config`
 * must still show the good values; and it reports one string for all problems, which would have
 * to be parsed back. So every layer is checked against the schema first (check-layer.ts,
 * check-environment.ts) and only accepted values reach convict: its validation here is a
 * consistency check that fails only on a dbswitch bug.
 *
 * @param env only the accepted dbswitch variables: convict applies them after every load.
 */
export function mergeLayers(layers: readonly ConfigShape[], env: Readonly<Record<string, string>>): ConfigShape {
  registerFormats();
  // args: [] keeps convict from reading process.argv (it would otherwise by default).
  const store = convict<ConfigShape>(convictSchema(), { env: { ...env }, args: [] });
  for (const layer of layers) store.load(layer);
  try {
    store.validate({ allowed: 'strict' });
  } catch (err) {
    // convict's message leaves out sensitive values; no secret reaches the cause.
    throw new Error('dbswitch bug: convict refused values the schema checks accepted', { cause: err });
  }
  return store.getProperties();
}

/**
 * Registers dbswitch's formats with convict. convict keeps formats in one process-wide registry
 * (there is no per-instance one); the `dbswitch-` names keep them apart from an application's
 * own, and registering again replaces a format with an identical one.
 */
function registerFormats(): void {
  const formats = new Map<string, Format<unknown>>(settings.map((setting) => [setting.format.name, setting.format]));
  for (const format of formats.values()) {
    const check: Format<unknown> = format;
    convict.addFormat({
      name: format.name,
      validate: (value: unknown) => {
        check.validate(value);
      },
      coerce: (value: string) => format.coerce(value),
    });
  }
}

/** The schema as convict takes it: formats by registered name. */
function convictSchema(): convict.Schema<ConfigShape> {
  const sections: Record<string, Record<string, convict.SchemaObj>> = {};
  for (const { section, name, doc, env, default: value, format, sensitive } of settings) {
    (sections[section] ??= {})[name] = { doc, env, default: value, format: format.name, sensitive: sensitive === true };
  }
  return sections;
}
