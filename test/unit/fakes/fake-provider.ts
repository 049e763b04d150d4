import { DbProvider, type ProvidedConnection, type RouteHop, type ToolEndpoint } from '../../../src/db-provider.js';
import { DbSwitchError } from '../../../src/errors.js';
import { asConnection, FakeServer, type FakeConnection } from './fake-mysql.js';

/** How one connect() goes. */
export type ConnectStep =
  | { readonly kind: 'open'; readonly delayMs?: number }
  | { readonly kind: 'fail'; readonly error: unknown; readonly delayMs?: number }
  /** Never settles (a provider without a connect timeout, or a SIGSTOP'd server). */
  | { readonly kind: 'hang' };

/**
 * A DbProvider whose connect() opens sessions on a {@link FakeServer} (so KILL QUERY sent on the
 * control connection reaches the target thread), with scripted delays, failures and hangs, and
 * a record of connects and closes.
 */
export class FakeProvider extends DbProvider {
  readonly server: FakeServer;
  /** connect() and close() calls in order: 'connect', 'close'. */
  readonly events: string[] = [];
  /** Connections handed out, in order (the control connection too). */
  readonly connections: FakeConnection[] = [];
  /** Applies when no step is scripted. */
  connectDelayMs = 0;
  readonly #steps: ConnectStep[] = [];

  constructor(server: FakeServer = new FakeServer()) {
    super();
    this.server = server;
  }

  get connects(): number {
    return this.events.filter((event) => event === 'connect').length;
  }

  get closes(): number {
    return this.events.filter((event) => event === 'close').length;
  }

  /** Scripts the next connect() calls, one step each. */
  next(...steps: ConnectStep[]): void {
    this.#steps.push(...steps);
  }

  override async connect(): Promise<ProvidedConnection> {
    this.events.push('connect');
    const step = this.#steps.shift() ?? { kind: 'open', delayMs: this.connectDelayMs };
    if (step.kind === 'hang') return new Promise<never>(() => undefined);
    const delayMs = step.delayMs ?? 0;
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (step.kind === 'fail') throw step.error;
    const conn = this.server.accept();
    this.connections.push(conn);
    return { connection: asConnection(conn) };
  }

  override close(): Promise<void> {
    this.events.push('close');
    this.server.timeline.push('provider closed');
    return Promise.resolve();
  }

  route(): readonly RouteHop[] {
    return [{ name: 'database', address: 'fake:3306' }];
  }

  toolEndpoint(): Promise<ToolEndpoint> {
    return Promise.reject(new DbSwitchError('EUSAGE', 'the fake provider has no endpoint for tools'));
  }
}
