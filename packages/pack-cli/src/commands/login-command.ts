/**
 * `packctl login`, `logout`, `whoami`, `passwd` and `server ls|use`: their command lines; the
 * implementation (./login.ts) is loaded when one of them runs.
 */
import { AUTH_EXITS, connectionOptions, formatOption, withPaths, type CommandModule } from '../command.js';
import type { ConnectionOptions, LoginOptions } from './login.js';

interface FileOptions {
  config?: string;
  format: ConnectionOptions['format'];
}

export const loginCommands: CommandModule = (program, { io, exit }) => {
  const load = () => import('./login.js');

  program
    .command('login')
    .description('sign in to a registry server and keep the credentials in ~/.packctl/config.json (mode 0600)')
    .argument('[server]', 'e.g. https://packs.example.com (default: PACKCTL_SERVER or the default registry)')
    .option('-u, --username <name>', 'username (prompted on a terminal)')
    .option('--password-stdin', 'read the password from stdin (CI)')
    .option('--api-key-stdin', 'sign in with an API key read from stdin instead of a password (CI)')
    .option('--api-key <key>', 'the same with the key on the command line (visible to ps and in shell history)')
    .option('--insecure', 'allow plain HTTP to a remote host, or TLS without verifying the certificate')
    .option('--ca-file <file>', 'verify the server with this CA bundle (PEM)')
    .option('--default', 'make this the default registry server')
    .option('--config <file>', 'credentials file (default: PACKCTL_CONFIG or ~/.packctl/config.json)')
    .addOption(formatOption())
    .addHelpText(
      'after',
      `${AUTH_EXITS}

Examples:
  packctl login https://packs.example.com -u alice
  echo "$PACKYARD_PASSWORD" | packctl login https://packs.example.com -u ci --password-stdin
  echo "$PACKYARD_API_KEY" | packctl login https://packs.example.com --api-key-stdin --default`,
    )
    .action(async (server: string | undefined, options: LoginOptions) => {
      const { loginCommand } = await load();
      exit(await loginCommand(server, withPaths(io, options, 'config', 'caFile'), io));
    });

  program
    .command('logout')
    .description("forget a server's credentials")
    .argument('[server]', 'default: the default registry server')
    .option('--config <file>', 'credentials file')
    .addOption(formatOption())
    .action(async (server: string | undefined, options: FileOptions) => {
      const { logoutCommand } = await load();
      exit(await logoutCommand(server, withPaths(io, options, 'config'), io));
    });

  connectionOptions(program.command('whoami').description('who the registry server sees you as'))
    .addHelpText('after', AUTH_EXITS)
    .action(async (options: ConnectionOptions) => {
      const { whoamiCommand } = await load();
      exit(await whoamiCommand(withPaths(io, options, 'config'), io));
    });

  connectionOptions(
    program
      .command('passwd')
      .description('change your password at a registry server (the current one is asked for)')
      .option('--password-stdin', 'read the current and the new password from stdin, one per line'),
  )
    .addHelpText(
      'after',
      `${AUTH_EXITS}

Examples:
  packctl passwd
  printf '%s\\n%s\\n' "$OLD_PASSWORD" "$NEW_PASSWORD" | packctl passwd --password-stdin`,
    )
    .action(async (options: ConnectionOptions & { passwordStdin?: boolean }) => {
      const { passwdCommand } = await load();
      exit(await passwdCommand(withPaths(io, options, 'config'), io));
    });

  const server = program.command('server').description('the registry servers you are logged in to');
  server
    .command('ls')
    .description('list them, the default marked with *')
    .option('--config <file>', 'credentials file')
    .addOption(formatOption())
    .action(async (options: FileOptions) => {
      const { serverListCommand } = await load();
      exit(await serverListCommand(withPaths(io, options, 'config'), io));
    });
  server
    .command('use')
    .description('make one the default')
    .argument('<server>', 'a server you are logged in to')
    .option('--config <file>', 'credentials file')
    .addOption(formatOption())
    .action(async (serverArg: string, options: FileOptions) => {
      const { serverUseCommand } = await load();
      exit(await serverUseCommand(serverArg, withPaths(io, options, 'config'), io));
    });
};
