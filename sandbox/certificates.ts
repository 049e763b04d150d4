import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runProgram } from './run-program.js';

/** A CA and a server certificate it signed, as PEM files. */
export interface CertificateSet {
  readonly caPath: string;
  readonly caKeyPath: string;
  readonly certPath: string;
  readonly keyPath: string;
  /** The DNS names the server certificate is valid for. */
  readonly hostNames: readonly string[];
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * Makes a private CA and a server certificate for `hostNames` with openssl, in `dir` under
 * `prefix`-named files. Valid for two days: long enough for any run, useless if leaked.
 */
export async function makeCertificates(dir: string, hostNames: readonly string[], prefix = ''): Promise<CertificateSet> {
  const file = (name: string): string => join(dir, `${prefix}${name}`);
  const set: CertificateSet = {
    caPath: file('ca.pem'),
    caKeyPath: file('ca-key.pem'),
    certPath: file('server-cert.pem'),
    keyPath: file('server-key.pem'),
    hostNames,
  };
  await runProgram('openssl', [
    'req', '-x509', ...EC_KEY, '-days', '2', '-subj', `/CN=dbswitch sandbox ${prefix}CA`,
    '-keyout', set.caKeyPath, '-out', set.caPath,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  const csr = file('server.csr');
  await runProgram('openssl', ['req', ...EC_KEY, '-subj', `/CN=${hostNames[0] ?? 'localhost'}`, '-keyout', set.keyPath, '-out', csr]);
  const extensions = file('server.ext');
  await writeFile(
    extensions,
    [
      `subjectAltName=${hostNames.map((name) => `DNS:${name}`).join(',')}`,
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
    ].join('\n'),
  );
  await runProgram('openssl', [
    'x509', '-req', '-in', csr, '-CA', set.caPath, '-CAkey', set.caKeyPath, '-CAcreateserial',
    '-days', '2', '-extfile', extensions, '-out', set.certPath,
  ]);
  return set;
}
