/**
 * The first SuperAdmin. At a start with no operator in storage, the operator named in the
 * configuration (`auth.superAdmin`, PACKYARD_SUPERADMIN_USERNAME / _PASSWORD) is created; without
 * a configured password one is generated, written once to `<dataDir>/superadmin-password` (mode
 * 0600) and printed once on stderr, never into the JSON log. Once the SuperAdmin changes that
 * password, the file is removed ({@link forgetGeneratedPassword}): it no longer works.
 */
import { randomBytes } from 'node:crypto';
import { chmod, rm, writeFile } from 'node:fs/promises';
import { makeDir } from '@packyard/pack-core';
import path from 'node:path';
import type { Logger } from 'pino';
import type { IdentityDirectory } from './directory.js';
import type { Identity } from './identity.js';

export async function ensureSuperAdmin(options: {
  identity: Identity;
  directory: IdentityDirectory;
  superAdmin: { username: string; password: string | undefined };
  dataDir: string;
  logger: Logger;
}): Promise<void> {
  const { identity, directory, superAdmin, dataDir, logger } = options;
  const { operators } = directory.systemDirectory();
  if (operators.length > 0 && superAdmin.password === undefined) return;
  if (operators.some((o) => o.username === superAdmin.username)) return;
  const generated = superAdmin.password === undefined;
  const password = superAdmin.password ?? randomBytes(18).toString('base64url');
  const created = await identity.ensureOperator(superAdmin.username, password);
  if (!created) return;
  if (!generated) {
    logger.info({ username: superAdmin.username }, 'created the SuperAdmin from the configuration');
    return;
  }
  const file = path.join(dataDir, 'superadmin-password');
  await makeDir(dataDir, 0o700);
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  // The mode above only applies to a new file: an existing one keeps its own.
  await chmod(file, 0o600);
  process.stderr.write(
    `\nCreated the SuperAdmin "${superAdmin.username}" with the generated password:\n\n    ${password}\n\n` +
      `It is also in ${file} (mode 0600) until you change it. Sign in (packctl login) and change it (packctl passwd).\n\n`,
  );
  logger.warn(
    { username: superAdmin.username, file },
    `created the SuperAdmin with a generated password, written to ${file}`,
  );
}

/**
 * Removes `<dataDir>/superadmin-password` after `username`, the configured SuperAdmin, changed
 * their password: the generated password in it no longer works. Says so on stderr and in the log.
 * Resolves with whether there was a file to remove.
 */
export async function forgetGeneratedPassword(options: {
  username: string;
  superAdmin: string;
  dataDir: string;
  logger: Logger;
}): Promise<boolean> {
  if (options.username !== options.superAdmin) return false;
  const file = path.join(options.dataDir, 'superadmin-password');
  const removed = await rm(file).then(
    () => true,
    (err: unknown) => {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    },
  );
  if (removed) {
    process.stderr.write(`\nThe SuperAdmin "${options.username}" changed the generated password: removed ${file}.\n\n`);
    options.logger.info({ username: options.username, file }, `the SuperAdmin changed its password: removed ${file}`);
  }
  return removed;
}
