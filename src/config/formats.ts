/**
 * Strict value checks for the convict schema.
 *
 * convict's built-in coercion is lenient in ways that hide mistakes (`parseInt('3306x')` is 3306,
 * any Boolean string but "false" is true), so each key gets an inline check that accepts the
 * JSON type of a config file or the exact string form of an environment variable, and `coerce`
 * turns the accepted strings into values afterwards. The thrown messages say what is allowed;
 * the caller adds the key, the env var and (for non-secrets) the offending value.
 */

export type Format = (value: unknown) => void;

const INTEGER = /^-?\d+$/;
const integerFormats = new WeakSet<Format>();

/** A whole number in [min, max]; `unit` is appended to the bounds in the message. */
export function integer(min: number, max: number, unit = ''): Format {
  const allowed = `must be a whole number from ${min}${unit} to ${max}${unit}`;
  const format: Format = (value) => {
    const n = typeof value === 'string' && INTEGER.test(value) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new Error(allowed);
    }
  };
  integerFormats.add(format);
  return format;
}

/** `true`/`false` (also the strings, and 1/0 as env vars often carry them). */
export const boolean: Format = (value) => {
  if (typeof value === 'boolean' || value === 'true' || value === 'false' || value === '1' || value === '0') {
    return;
  }
  throw new Error('must be true or false');
};

/** One of a fixed list of strings. */
export function oneOf(values: readonly string[]): Format {
  return (value) => {
    if (typeof value !== 'string' || !values.includes(value)) {
      throw new Error(`must be one of: ${values.join(', ')}`);
    }
  };
}

/** A non-empty string, or unset (null) when `optional`. */
export function text({ optional }: { optional: boolean }): Format {
  return (value) => {
    if (value === null && optional) return;
    if (typeof value !== 'string' || value.length === 0) {
      throw new Error(optional ? 'must be a non-empty string when set' : 'must be a non-empty string');
    }
  };
}

/** `SHA256:<base64>` as `ssh-keygen -lf` prints a host key fingerprint. */
export const sshFingerprint: Format = (value) => {
  if (value === null) return;
  if (typeof value !== 'string' || !/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(value)) {
    throw new Error('must be a fingerprint like SHA256:<43 base64 characters>, as `ssh-keygen -lf` prints it');
  }
};

/** Turns the accepted string forms into numbers and booleans; other values pass through. */
export function coerce(value: unknown, format: Format): unknown {
  if (typeof value !== 'string') return value;
  if (format === boolean) return value === 'true' || value === '1';
  if (integerFormats.has(format)) return Number(value);
  return value;
}

