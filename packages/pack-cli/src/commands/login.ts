/**
 * Signing in to registries: `login`, `logout`, `whoami`, `passwd`, `server ls`, `server use`.
 * Credentials are kept in the credentials file (./../registry/credentials.ts), one entry per server.
 */
import path from 'node:path';
import { CliError, EXIT, usageError, type ExitCode } from '../errors.js';
import type { CliIo } from '../io.js';
import { safe } from '../output/sanitise.js';
import { colorsFor, printJson, type OutputFormat } from '../output/terminal.js';
import { checkIdentity, checkIssuedToken } from '../registry/answers.js';
import { RegistryClient } from '../registry/client.js';
import {
  credentialsPath,
  normaliseServer,
  readCredentials,
  shownServer,
  writeCredentials,
  type ServerAuth,
} from '../registry/credentials.js';
import { promptHidden, promptLine, readAllStdin } from '../output/prompt.js';

export interface ConnectionOptions {
  server?: string;
  config?: string;
  format: OutputFormat;
}

export interface LoginOptions {
  config?: string;
  username?: string;
  passwordStdin?: boolean;
  apiKey?: string;
  apiKeyStdin?: boolean;
  insecure?: boolean;
  caFile?: string;
  default?: boolean;
  format: OutputFormat;
}

type Me = ReturnType<typeof checkIdentity>;

/** GET /v1/auth/me through `client`, checked. */
async function whoIs(client: RegistryClient, what: string): Promise<Me> {
  return checkIdentity(await client.api.me(what), what);
}

/** `packctl login [SERVER]`: a password (prompted, or --password-stdin) or an API key. */
export async function loginCommand(serverArg: string | undefined, options: LoginOptions, io: CliIo): Promise<ExitCode> {
  const file = credentialsPath(options.config, io.env);
  const credentials = await readCredentials(file);
  const named = serverArg ?? io.env['PACKCTL_SERVER'] ?? credentials.defaultRegistry;
  if (!named) throw usageError('which server?', 'packctl login https://packs.example.com');
  const server = normaliseServer(named);
  // Kept with the login and used from any directory later: stored absolute.
  const caFile = options.caFile ? path.resolve(io.cwd, options.caFile) : undefined;
  const tls = { insecure: options.insecure ?? false, ...(caFile ? { caFile } : {}) };
  const entry: ServerAuth = {
    ...(tls.insecure ? { insecure: true } : {}),
    ...(tls.caFile ? { caFile: tls.caFile } : {}),
  };

  const given = [options.apiKey !== undefined, options.apiKeyStdin, options.passwordStdin].filter(Boolean);
  if (given.length > 1) {
    throw usageError('give one of --api-key, --api-key-stdin and --password-stdin', 'stdin holds one secret');
  }
  const apiKey = options.apiKeyStdin ? (await readAllStdin(io)).trim() : options.apiKey;
  let me: Me;
  if (apiKey !== undefined) {
    if (apiKey === '') throw usageError('stdin held no API key', 'pipe the key in: echo "$KEY" | packctl login ...');
    me = await whoIs(RegistryClient.connect(server, tls, apiKey), `logging in to ${server}`);
    entry.apiKey = apiKey;
  } else {
    const username = options.username ?? (io.stdin.isTTY ? await promptLine(io, 'Username: ') : undefined);
    if (!username) throw usageError('no username', 'pass --username, or run packctl login on a terminal');
    let password: string;
    if (options.passwordStdin) password = (await readAllStdin(io)).replace(/\r?\n$/, '');
    else if (io.stdin.isTTY) password = await promptHidden(io, 'Password: ');
    else {
      throw usageError(
        'no terminal to ask for the password on',
        'pipe it in with --password-stdin, or log in with --api-key (CI)',
      );
    }
    const what = `logging in to ${server}`;
    const client = RegistryClient.connect(server, tls);
    const issued = checkIssuedToken(await client.api.login({ username, password }, what), what);
    entry.token = issued.token;
    entry.expiresAt = issued.expiresAt;
    me = await whoIs(RegistryClient.connect(server, tls, issued.token), what);
  }
  entry.username = me.username;
  credentials.auths[server] = entry;
  const makeDefault = options.default === true || credentials.defaultRegistry === undefined;
  if (makeDefault) credentials.defaultRegistry = server;
  await writeCredentials(file, credentials);
  const result = { server, username: me.username, tenant: me.tenant, default: credentials.defaultRegistry === server };
  if (options.format === 'json') printJson(io.stdout, result);
  else {
    const who = me.tenant ? `${me.username} (tenant ${me.tenant})` : me.username;
    io.stdout.write(safe`Logged in to ${server} as ${who}${result.default ? ', the default registry' : ''}.\n`);
  }
  return EXIT.ok;
}

/** `packctl logout [SERVER]`: forgets the server's credentials. */
export async function logoutCommand(
  serverArg: string | undefined,
  options: { config?: string; format: OutputFormat },
  io: CliIo,
): Promise<ExitCode> {
  const file = credentialsPath(options.config, io.env);
  const credentials = await readCredentials(file);
  const named = serverArg ?? credentials.defaultRegistry;
  if (!named) throw usageError('which server?', 'packctl server ls lists the servers you are logged in to');
  const server = normaliseServer(named);
  if (!credentials.auths[server]) {
    throw new CliError(`not logged in to ${server}`, {
      exitCode: EXIT.notFound,
      hint: 'packctl server ls lists the servers you are logged in to',
    });
  }
  credentials.auths = Object.fromEntries(Object.entries(credentials.auths).filter(([key]) => key !== server));
  if (credentials.defaultRegistry === server) delete credentials.defaultRegistry;
  await writeCredentials(file, credentials);
  if (options.format === 'json') printJson(io.stdout, { server, loggedOut: true });
  else io.stdout.write(safe`Logged out of ${server}.\n`);
  return EXIT.ok;
}

/** `packctl whoami`: the identity the server sees. */
export async function whoamiCommand(options: ConnectionOptions, io: CliIo): Promise<ExitCode> {
  const client = await RegistryClient.open({ ...options, env: io.env });
  if (!client.authenticated) {
    throw new CliError(`not logged in to ${client.server}`, {
      exitCode: EXIT.auth,
      hint: `run packctl login ${client.server}`,
    });
  }
  const what = `asking ${client.server}`;
  const answer = await client.api.me(what);
  const me = checkIdentity(answer, what);
  if (options.format === 'json') printJson(io.stdout, { server: client.server, ...answer });
  else {
    const tenant = me.tenant ? ` in tenant ${me.tenant}` : ' (system operator)';
    io.stdout.write(safe`${me.username}${tenant} at ${client.server}\n`);
  }
  return EXIT.ok;
}

/** `packctl server ls`: the servers in the credentials file, the default marked. */
export async function serverListCommand(
  options: { config?: string; format: OutputFormat },
  io: CliIo,
): Promise<ExitCode> {
  const credentials = await readCredentials(credentialsPath(options.config, io.env));
  // Keys are as login wrote them, unless the file was edited by hand: said without user info.
  const servers = Object.entries(credentials.auths).map(([server, auth]) => ({
    server: shownServer(server),
    username: auth.username ?? null,
    credential: auth.apiKey ? 'api-key' : auth.token ? 'token' : 'none',
    default: credentials.defaultRegistry === server,
  }));
  if (options.format === 'json') {
    printJson(io.stdout, { servers });
    return EXIT.ok;
  }
  if (servers.length === 0) {
    io.stdout.write('No registry servers: run packctl login <server>.\n');
    return EXIT.ok;
  }
  const c = colorsFor(io.stdout, io.env);
  for (const s of servers) {
    io.stdout.write(`${s.default ? c.green('*') : ' '} ${safe`${s.server}  ${s.username ?? ''} (${s.credential})`}\n`);
  }
  return EXIT.ok;
}

/** `packctl server use SERVER`: makes a server you are logged in to the default. */
export async function serverUseCommand(
  serverArg: string,
  options: { config?: string; format: OutputFormat },
  io: CliIo,
): Promise<ExitCode> {
  const file = credentialsPath(options.config, io.env);
  const credentials = await readCredentials(file);
  const server = normaliseServer(serverArg);
  if (!credentials.auths[server]) {
    throw new CliError(`not logged in to ${server}`, { exitCode: EXIT.notFound, hint: `run packctl login ${server}` });
  }
  credentials.defaultRegistry = server;
  await writeCredentials(file, credentials);
  if (options.format === 'json') printJson(io.stdout, { defaultRegistry: server });
  else io.stdout.write(safe`${server} is now the default registry.\n`);
  return EXIT.ok;
}

/**
 * `packctl passwd`: changes your password at the server. The current password is always needed:
 * prompted on a terminal (the new one twice), or two lines on stdin with --password-stdin.
 */
export async function passwdCommand(
  options: ConnectionOptions & { passwordStdin?: boolean },
  io: CliIo,
): Promise<ExitCode> {
  const client = await RegistryClient.open({ ...options, env: io.env });
  if (!client.authenticated) {
    throw new CliError(`not logged in to ${client.server}`, {
      exitCode: EXIT.auth,
      hint: `run packctl login ${client.server}`,
    });
  }
  let currentPassword: string | undefined;
  let newPassword: string | undefined;
  if (options.passwordStdin) {
    [currentPassword, newPassword] = (await readAllStdin(io)).split(/\r?\n/);
    if (!currentPassword || !newPassword) {
      throw usageError(
        '--password-stdin reads two lines: the current password, then the new one',
        'printf "%s\\n%s\\n" "$OLD" "$NEW" | packctl passwd --password-stdin',
      );
    }
  } else if (io.stdin.isTTY) {
    currentPassword = await promptHidden(io, 'Current password: ');
    newPassword = await promptHidden(io, 'New password (12 characters or more): ');
    if ((await promptHidden(io, 'New password again: ')) !== newPassword) {
      throw usageError('the two new passwords differ', 'run packctl passwd again');
    }
  } else {
    throw usageError('no terminal to ask for the passwords on', 'pipe them in, one per line, with --password-stdin');
  }
  await client.api.changePassword({ currentPassword, newPassword }, `changing your password at ${client.server}`);
  // The new password ends every session of the old one, this one's included: a stored login is
  // renewed with the new password, so that the next command still works.
  const renewed = await renewStoredLogin(client.server, newPassword, { config: options.config, env: io.env });
  if (options.format === 'json') printJson(io.stdout, { server: client.server, changed: true, signedInAgain: renewed });
  else io.stdout.write(safe`Password changed at ${client.server}.\n`);
  if (!renewed && io.env['PACKCTL_TOKEN'] === undefined) {
    io.stderr.write(safe`note: sessions of the old password have ended; run packctl login ${client.server}\n`);
  }
  return EXIT.ok;
}

/** Signs in again with `password` where the credentials file holds a login (not an API key) for `server`. */
async function renewStoredLogin(
  server: string,
  password: string,
  { config, env }: { config: string | undefined; env: NodeJS.ProcessEnv },
): Promise<boolean> {
  if (env['PACKCTL_TOKEN'] !== undefined) return false;
  const file = credentialsPath(config, env);
  const credentials = await readCredentials(file);
  const entry = credentials.auths[server];
  if (!entry?.token || entry.apiKey !== undefined || !entry.username) return false;
  const tls = { insecure: entry.insecure ?? false, ...(entry.caFile ? { caFile: entry.caFile } : {}) };
  const what = `signing in to ${server} with the new password`;
  const issued = checkIssuedToken(
    await RegistryClient.connect(server, tls).api.login({ username: entry.username, password }, what),
    what,
  );
  credentials.auths[server] = { ...entry, token: issued.token, expiresAt: issued.expiresAt };
  await writeCredentials(file, credentials);
  return true;
}
