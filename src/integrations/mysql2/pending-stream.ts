import { Duplex } from 'node:stream';

/**
 * What a driver is given as its stream while the real one is being opened (a transport made
 * asynchronously: a secret read, a token signed, an SSH channel forwarded). It delivers nothing
 * and keeps what is written; `handOver()` passes that on to the real stream once the driver has
 * been moved onto it, and `fail()` reports why there is none, as a stream error the driver sees.
 * mysql2 writes nothing before the server's greeting, so nothing is kept in practice.
 *
 * @example
 * const pending = new PendingStream();
 * const connection = mysql.createConnection({ stream: pending });   // synchronous
 * openSocket().then((socket) => { moveToStream(connection, pending, socket); pending.handOver(socket); }, (err) => pending.fail(err));
 */
export class PendingStream extends Duplex {
  readonly #kept: { chunk: Buffer; callback: (err?: Error | null) => void }[] = [];
  #handedOver = false;

  constructor() {
    super({ allowHalfOpen: false });
  }

  /** Writes what was kept to `target` (the driver now writes there itself); this stream is done. */
  handOver(target: Duplex): void {
    this.#handedOver = true;
    for (const { chunk, callback } of this.#kept.splice(0)) target.write(chunk, callback);
    this.destroy();
  }

  /** The real stream could not be opened: the driver sees `err` as its stream's error. */
  fail(err: Error): void {
    this.destroy(err);
  }

  override _read(): void {
    // Nothing arrives here: the driver reads from the real stream once moved onto it.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.#kept.push({ chunk, callback });
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    if (!this.#handedOver) {
      const closed = err ?? new Error('the stream was closed before it was connected');
      for (const kept of this.#kept.splice(0)) kept.callback(closed);
    }
    callback(err);
  }
}
