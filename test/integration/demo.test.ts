import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const DEMO = fileURLToPath(new URL('../../build/sandbox/demo.js', import.meta.url));

describe('npm run demo (the repository\'s demo, not part of the package)', () => {
  it('starts its own sandbox, checks every way of connecting, runs a workload and removes the sandbox', async () => {
    const { stdout, stderr } = await run(process.execPath, [DEMO], { env: { PATH: process.env['PATH'] ?? '' }, timeout: 90_000 });
    expect(stderr).toBe('');
    expect(stdout).toContain('transport  TCP, the server sees 127.0.0.1:');
    expect(stdout).toContain('transport  unix socket, the server sees localhost');
    expect(stdout).toMatch(/tls\s+TLSv1\.[23]/);
    expect(stdout).toMatch(/ok {2}ssh bastion 127\.0\.0\.1:\d+ \(host key SHA256:\S+ verified by known_hosts/);
    expect(stdout).toContain('rolled back: 2 accounts');
    expect(stdout).toContain('seen by the next: null');
    expect(stdout).toMatch(/SELECT SLEEP\(5\) with timeout 300 ms: ETIMEOUT after \d+ ms; still running on the server: 0/);
    // the aws variant plays RDS IAM with PAM, which needs root
    if (process.getuid?.() === 0) expect(stdout).toMatch(/auth {7}iam \(token signed for localhost:\d+, user demo_iam, valid until /);
    else expect(stdout).toContain('the aws variant needs root');
    expect(stdout).toContain('Sandbox stopped and its temp dir removed.');
  });
});
