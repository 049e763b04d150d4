/**
 * The value checks of the schema, as convict formats: a `name` to register under, `coerce` for the
 * string form (an environment variable, or a string in a file) and `validate` for the result.
 *
 * convict's own coercion is lenient in ways that hide mistakes: it picks a parser by the type of
 * the default, so `parseInt('3306x')` is 3306 and every string but "false" is `true`. Here
 * `coerce` turns only the exact string forms into values and returns anything else unchanged,
 * for `validate` to reject. The thrown messages say what is allowed and never repeat the value
 * (it may be a secret); the caller adds the key, its env var and, for non-secrets, the value.
 *
 * Each format carries the TypeScript type it admits, so the type of the resolved configuration is
 * derived from the schema (see config.ts).
 */
export interface Format<T> {
  /** The name registered with convict; the parameters are part of it, so equal names behave alike. */
  readonly name: string;
  /** What is allowed, as the error says it: `must be a whole number from 1 to 65535`. */
  readonly allowed: string;
  /** The value a string stands for; a string that stands for none is returned unchanged. */
  coerce(value: string): unknown;
  /** Throws an Error that says what is allowed (without the value) unless `value` is a `T`. */
  validate(value: unknown): asserts value is T;
}

/** The type a format admits. */
export type FormatValue<F> = F extends Format<infer T> ? T : never;

/**
 * Coerces (when `value` is a string) and validates one value.
 *
 * @throws Error saying what is allowed.
 */
export function accept<T>(format: Format<T>, value: unknown): T {
  const coerced = typeof value === 'string' ? format.coerce(value) : value;
  format.validate(coerced);
  return coerced;
}

const INTEGER = /^-?\d+$/;

/** A whole number in [min, max]; `unit` follows the bounds in the message (`' ms'`). */
export function integer(min: number, max: number, unit = ''): Format<number> {
  const allowed = `must be a whole number from ${min}${unit} to ${max}${unit}`;
  return {
    name: `dbswitch-integer(${min}..${max})`,
    allowed,
    coerce: (value) => (INTEGER.test(value) ? Number(value) : value),
    validate(value): asserts value is number {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) throw new Error(allowed);
    },
  };
}

const BOOLEAN_STRINGS: ReadonlyMap<string, boolean> = new Map([
  ['true', true],
  ['false', false],
  // as environment variables often carry them
  ['1', true],
  ['0', false],
]);

/** `true` or `false` (and 1 or 0 as strings). */
export const boolean: Format<boolean> = {
  name: 'dbswitch-boolean',
  allowed: 'must be true or false',
  coerce: (value) => BOOLEAN_STRINGS.get(value) ?? value,
  validate(value): asserts value is boolean {
    if (typeof value !== 'boolean') throw new Error(boolean.allowed);
  },
};

/** One of a fixed list of strings (declared once in modes.ts). */
export function oneOf<const V extends readonly string[]>(values: V): Format<V[number]> {
  const allowed = `must be one of: ${values.join(', ')}`;
  return {
    name: `dbswitch-one-of(${values.join('|')})`,
    allowed,
    coerce: (value) => value,
    validate(value): asserts value is V[number] {
      if (typeof value !== 'string' || !values.includes(value)) throw new Error(allowed);
    },
  };
}

/** A non-empty string. */
export const text: Format<string> = {
  name: 'dbswitch-text',
  allowed: 'must be a non-empty string',
  coerce: (value) => value,
  validate(value): asserts value is string {
    if (typeof value !== 'string' || value.length === 0) throw new Error(text.allowed);
  },
};

/** `SHA256:<base64>` as `ssh-keygen -lf` prints a host key fingerprint. */
export const sshFingerprint: Format<string> = {
  name: 'dbswitch-ssh-fingerprint',
  allowed: 'must be a fingerprint like SHA256:<43 base64 characters>, as `ssh-keygen -lf` prints it',
  coerce: (value) => value,
  validate(value): asserts value is string {
    if (typeof value !== 'string' || !/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(value)) throw new Error(sshFingerprint.allowed);
  },
};

/** `format`, or `null` for unset (config files and `createDb({ config })` write unset as null). */
export function optional<T>(format: Format<T>): Format<T | null> {
  return {
    name: `${format.name}-or-null`,
    allowed: format.allowed,
    coerce: (value) => format.coerce(value),
    validate(value): asserts value is T | null {
      if (value !== null) format.validate(value);
    },
  };
}

/**
 * `format`, rejecting values a former version accepted with a hint of what to write instead:
 * `retired(oneOf(RESET_MODES), { true: 'always (or auto, the default)' })` rejects `true` (the
 * Boolean or the string) with "true is no longer accepted; use always (or auto, the default)".
 */
export function retired<T>(format: Format<T>, replacements: Readonly<Record<string, string>>): Format<T> {
  const hints = new Map(Object.entries(replacements));
  const hintFor = (value: unknown): string | undefined =>
    typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number' ? hints.get(String(value)) : undefined;
  return {
    name: `${format.name}-retired(${[...hints.keys()].join('|')})`,
    allowed: format.allowed,
    coerce: (value) => (hints.has(value) ? value : format.coerce(value)),
    validate(value): asserts value is T {
      const hint = hintFor(value);
      // The retired values are a fixed list, so naming the one given repeats no secret.
      if (hint !== undefined) throw new Error(`${format.allowed}; ${String(value)} is no longer accepted; use ${hint}`);
      format.validate(value);
    },
  };
}
