import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/**
 * The path of a program from PATH or the sbin folders, where Debian puts mariadbd and sshd
 * (often not on a normal user's PATH). The error says which package provides it.
 */
export async function locateProgram(name: string): Promise<string> {
  const folders = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const folder of folders) {
    if (folder === '') continue;
    const candidate = join(folder, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder; try the next
    }
  }
  throw new Error(
    `${name} is not installed. Run \`bash scripts/install-system-deps.sh\` as root, or install the Debian packages mariadb-server, openssh-server and openssl.`,
  );
}
