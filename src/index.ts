// The public API of dbswitch. Everything an application (or a provider of its own) needs is
// exported here; nothing under src/ is meant to be imported directly.
export { createDb, type CreateDbOptions } from './db/create-db.js';
export { Db } from './db/db.js';
export { closeOnSignals, type CloseOnSignalsOptions } from './db/close-on-signals.js';
export {
  DbSession,
  ISOLATION_LEVELS,
  type IsolationLevel,
  type StatementOptions,
  type TransactionOptions,
} from './db-session.js';
export {
  DbProvider,
  type AuthReport,
  type ProvidedConnection,
  type RouteHop,
  type ToolClientEvent,
  type ToolEndpoint,
  type ToolEndpointOptions,
  type Transport,
} from './db-provider.js';
export { connectOverStream, directEndpoint, type StreamLogin } from './connect/connect-over-stream.js';
export { DbSwitchError, isDbSwitchError, ERROR_CODES, type DbSwitchErrorCode } from './errors.js';
export { loadConfig, explainConfig, type LoadConfigOptions, type ExplainedConfig } from './config/load-config.js';
export type { DbSwitchConfig, DbSwitchConfigInput, ConfigSource } from './config/config.js';
export { DB_TYPES, TLS_MODES, AUTH_METHODS, HOST_KEY_CHECKING, LOG_LEVELS, RESET_MODES } from './config/modes.js';
export type { DbType, TlsMode, AuthMethod, HostKeyChecking, LogLevel, ResetMode } from './config/modes.js';
export { createContainer } from './db/create-container.js';
export type { BindingScope, BindingTarget, Container, ServiceId } from './container.js';
export { CONFIG } from './config/tokens.js';
export { LOGGER, type LogFn } from './logging/logger.js';
export { AWS_SERVICES, sdkAwsServices, type AwsServices, type AwsCredentials, type InstanceConnect, type SdkOptions } from './aws/aws-services.js';
export { createLogger, type Logger } from './logging/create-logger.js';
export type { PoolStats } from './pool/connection-pool.js';
export { runCli, type RunCliOptions } from './cli/run-cli.js';
// mysql2's result types, so a TypeScript user needs no direct mysql2 import.
export type { FieldPacket, ResultSetHeader, RowDataPacket, QueryResult } from 'mysql2';
