/**
 * The part of the inversify container an application touches in `configure(container)`: a
 * structural slice, so the published types need no inversify of their own (dbswitch bundles
 * it). The object passed is inversify's Container; everything below is what it does.
 */

declare const serviceType: unique symbol;

/** A token or a class the container knows; `T` is what it gives for it. */
export type ServiceId<T> =
  | (symbol & { readonly [serviceType]?: T })
  // Any class, whatever its constructor takes (`Db`, `DbProvider`, yours).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  | (abstract new (...args: any[]) => T);

/** How long a binding's value lives. */
export interface BindingScope {
  /** One value for the container's life (what dbswitch's own bindings use). */
  inSingletonScope(): unknown;
  /** A new value for every `get`. */
  inTransientScope(): unknown;
}

/** What a binding gives. */
export interface BindingTarget<T> {
  /** An instance of `type`, built by the container (its constructor parameters need `@inject`). */
  to(type: new (...args: never[]) => T): BindingScope;
  /** This very value. */
  toConstantValue(value: T): unknown;
  /** The value `factory` returns; `context.get` reads other bindings (CONFIG, LOGGER, ...). */
  toDynamicValue(factory: (context: { get<U>(id: ServiceId<U>): U }) => T): BindingScope;
}

/**
 * The container `createDb({ configure })` and `runCli(argv, { configure })` hand over before the
 * Db is made.
 *
 * @example
 * configure: (container) => container.rebind(DbProvider).toDynamicValue(({ get }) => new MyProvider(get(CONFIG))).inSingletonScope()
 */
export interface Container {
  bind<T>(id: ServiceId<T>): BindingTarget<T>;
  /** Replaces dbswitch's binding (DbProvider, AWS_SERVICES, LOGGER...). */
  rebind<T>(id: ServiceId<T>): BindingTarget<T>;
  get<T>(id: ServiceId<T>): T;
  isBound(id: ServiceId<unknown>): boolean;
}
