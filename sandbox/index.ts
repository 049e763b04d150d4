// The private test bed, for the benchmarks and the demo (the tests import its files directly).
// Built into build/sandbox by `npm run build`; never part of the package.
export { startMariaDb, type MariaDbSandbox } from './mariadb-sandbox.js';
export { startSshd, type SshSandbox } from './ssh-sandbox.js';
export { IAM_SERVER_ARGS, installIamAuthentication, SANDBOX_AWS, type IamAuthentication } from './iam-pam.js';
export { freePort } from './free-port.js';
export { ensureSandboxPrograms } from './ensure-programs.js';
