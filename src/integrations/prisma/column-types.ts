import { ColumnTypeEnum, type ArgType, type ColumnType } from '@prisma/driver-adapter-utils';
import type { FieldPacket, QueryOptions } from 'mysql2';

// The column types of the MySQL protocol (a column definition's `type` byte), as MySQL 8 and
// MariaDB send them in result sets. TIMESTAMP2, DATETIME2 and TIME2 exist only inside the server
// and its binlog; a client never sees them.
const DECIMAL = 0x00;
const TINY = 0x01;
const SHORT = 0x02;
const LONG = 0x03;
const FLOAT = 0x04;
const DOUBLE = 0x05;
const NULL = 0x06;
const TIMESTAMP = 0x07;
const LONGLONG = 0x08;
const INT24 = 0x09;
const DATE = 0x0a;
const TIME = 0x0b;
const DATETIME = 0x0c;
const YEAR = 0x0d;
const NEWDATE = 0x0e;
const VARCHAR = 0x0f;
const BIT = 0x10;
const VECTOR = 0xf2;
const JSON_TYPE = 0xf5;
const NEWDECIMAL = 0xf6;
const ENUM = 0xf7;
const SET = 0xf8;
const TINY_BLOB = 0xf9;
const MEDIUM_BLOB = 0xfa;
const LONG_BLOB = 0xfb;
const BLOB = 0xfc;
const VAR_STRING = 0xfd;
const STRING = 0xfe;
const GEOMETRY = 0xff;

// Column definition flags.
const UNSIGNED_FLAG = 0x20;
const ENUM_FLAG = 0x100;
const SET_FLAG = 0x800;
/** The `binary` character set: the column holds bytes, not text. */
const BINARY_CHARSET = 63;

/**
 * How every statement of the adapter asks mysql2 to read its result: the shapes Prisma's query
 * engine expects of a MySQL driver (those `@prisma/adapter-mariadb` gets from its driver), with
 * no conversion lost on the way. Rows as arrays (column names may repeat); dates, datetimes and
 * timestamps as the server's text (no time zone applied by the client); every BIGINT as a
 * string (no precision lost past 2^53, and one type for Prisma to read); DECIMAL stays a string
 * (mysql2's default unless the connection sets `decimalNumbers`, which dbswitch does not).
 */
export const READ_OPTIONS = {
  rowsAsArray: true,
  dateStrings: true,
  supportBigNumbers: true,
  bigNumberStrings: true,
  typeCast,
} as const satisfies Omit<QueryOptions, 'sql'>;

/**
 * JSON stays the server's text: Prisma parses it itself, and mysql2 would otherwise turn it into
 * an object (MySQL's JSON type, and MariaDB's JSON alias, which mysql2 recognises by MariaDB's
 * extended column metadata). Geometry and vectors stay bytes, as Prisma's other MySQL adapters
 * return them; mysql2 would otherwise decode them into objects and arrays.
 */
function typeCast(field: TypeCastField, next: () => unknown): unknown {
  if (field.type === 'JSON' || field.extendedFormat === 'json') return field.string('utf8');
  if (field.type === 'GEOMETRY' || field.type === 'VECTOR') return field.buffer();
  return next();
}

/** The part of mysql2's typeCast field the adapter reads. */
interface TypeCastField {
  readonly type: string;
  readonly extendedFormat?: string | undefined;
  string(encoding?: string): string | null;
  buffer(): Buffer | null;
}

/**
 * Prisma's column type for a column of a mysql2 result.
 *
 * @example
 * columnType(fields[0]); // ColumnTypeEnum.Int64 for a BIGINT column
 */
export function columnType(field: FieldPacket): ColumnType {
  const type = field.columnType ?? field.type ?? NULL;
  const flags = typeof field.flags === 'number' ? field.flags : 0;
  switch (type) {
    case TINY:
    case SHORT:
    case INT24:
    case YEAR:
      return ColumnTypeEnum.Int32;
    case LONG:
      // An unsigned INT reaches 2^32 - 1: past Int32.
      return (flags & UNSIGNED_FLAG) !== 0 ? ColumnTypeEnum.Int64 : ColumnTypeEnum.Int32;
    case LONGLONG:
      return ColumnTypeEnum.Int64;
    case FLOAT:
      return ColumnTypeEnum.Float;
    case DOUBLE:
      return ColumnTypeEnum.Double;
    case DECIMAL:
    case NEWDECIMAL:
      return ColumnTypeEnum.Numeric;
    case TIMESTAMP:
    case DATETIME:
      return ColumnTypeEnum.DateTime;
    case DATE:
    case NEWDATE:
      return ColumnTypeEnum.Date;
    case TIME:
      return ColumnTypeEnum.Time;
    case JSON_TYPE:
      return ColumnTypeEnum.Json;
    case ENUM:
      return ColumnTypeEnum.Enum;
    case SET:
      return ColumnTypeEnum.Set;
    case BIT:
    case GEOMETRY:
    case VECTOR:
      return ColumnTypeEnum.Bytes;
    case NULL:
      // `SELECT NULL`: any type does; the one @prisma/adapter-mariadb reports.
      return ColumnTypeEnum.Int32;
    case VARCHAR:
    case VAR_STRING:
    case STRING:
    case TINY_BLOB:
    case MEDIUM_BLOB:
    case LONG_BLOB:
    case BLOB:
      return stringColumnType(field, flags);
    default:
      // A type added by a later server: its text, which Prisma can at least show.
      return ColumnTypeEnum.Text;
  }
}

/**
 * Text, bytes, or what MySQL sends as a string with a flag: ENUM and SET columns, and MariaDB's
 * JSON and UUID (named in its extended metadata).
 */
function stringColumnType(field: FieldPacket, flags: number): ColumnType {
  if (field.extendedFormat === 'json') return ColumnTypeEnum.Json;
  if (field.extendedTypeName === 'uuid') return ColumnTypeEnum.Uuid;
  if ((flags & ENUM_FLAG) !== 0) return ColumnTypeEnum.Enum;
  if ((flags & SET_FLAG) !== 0) return ColumnTypeEnum.Set;
  return field.characterSet === BINARY_CHARSET ? ColumnTypeEnum.Bytes : ColumnTypeEnum.Text;
}

/**
 * A row as Prisma reads it: datetimes and timestamps as ISO 8601 in UTC (`+00:00`), the form
 * Prisma parses; everything else as {@link READ_OPTIONS} made it. Changes `row` in place.
 */
export function normalizeRow(row: unknown[], types: readonly ColumnType[]): unknown[] {
  for (let i = 0; i < row.length; i++) {
    const value = row[i];
    if (types[i] === ColumnTypeEnum.DateTime && typeof value === 'string') row[i] = isoDateTime(value);
  }
  return row;
}

/**
 * `2024-05-06 07:08:09.123` as `2024-05-06T07:08:09.123+00:00`. The value is read as UTC, which
 * is what Prisma writes (TIMESTAMP columns need the session in UTC: DB_INIT_SQL="SET
 * time_zone='+00:00'"). A value that is no date (MySQL's zero date) is passed on as it is.
 */
function isoDateTime(value: string): string {
  const date = new Date(`${value.replace(' ', 'T')}Z`);
  if (Number.isNaN(date.getTime())) return value;
  return date.toISOString().replace(/(\.000)?Z$/, '+00:00');
}

/**
 * A query argument as mysql2 must escape it: big integers as BigInt (a string would be compared
 * as a DOUBLE), datetimes as UTC text in the column's format (mysql2 would otherwise apply the
 * process's time zone), bytes as Buffers.
 */
export function driverArg(arg: unknown, argType: ArgType | undefined): unknown {
  if (arg === null || arg === undefined) return null;
  const scalar = argType?.scalarType;
  if (typeof arg === 'string' && scalar === 'bigint') return BigInt(arg);
  if (typeof arg === 'string' && scalar === 'bytes') return Buffer.from(arg, 'base64');
  const date = typeof arg === 'string' && scalar === 'datetime' ? new Date(arg) : arg;
  if (date instanceof Date) {
    switch (argType?.dbType ?? '') {
      case 'TIME':
      case 'TIME2':
        return formatTime(date);
      case 'DATE':
      case 'NEWDATE':
        return formatDate(date);
      default:
        return `${formatDate(date)} ${formatTime(date)}`;
    }
  }
  if (ArrayBuffer.isView(arg)) return Buffer.from(arg.buffer, arg.byteOffset, arg.byteLength);
  // A JSON value Prisma did not serialize: mysql2 would escape an object as `key` = value pairs.
  if (scalar === 'json' && typeof arg === 'object') return JSON.stringify(arg);
  return arg;
}

function formatDate(date: Date): string {
  return `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
}

function formatTime(date: Date): string {
  const ms = date.getUTCMilliseconds();
  return `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}${ms === 0 ? '' : `.${pad(ms, 3)}`}`;
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}
