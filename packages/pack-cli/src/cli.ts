/**
 * packctl's command line: commander wiring only. Each command is an async function in
 * ./commands that returns an exit code or throws; `run` maps every failure to an exit code and
 * one readable message (never a stack trace). Messages and hints often quote a server or a pack:
 * they are printed terminal-safe (./output/sanitise.ts).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { isPackError, LAYERS } from '@packyard/pack-core';
import { buildCommand } from './commands/build.js';
import { initCommand } from './commands/init.js';
import { lintCommand } from './commands/lint.js';
import {
  loginCommand,
  passwdCommand,
  logoutCommand,
  registryListCommand,
  registryUseCommand,
  whoamiCommand,
} from './commands/login.js';
import { profilePullCommand, profilePushCommand, profileResolveCommand } from './commands/profile.js';
import { deprecateCommand, removeCommand } from './commands/versions.js';
import { pullCommand } from './commands/pull.js';
import { pushCommand } from './commands/push.js';
import { searchCommand, showCommand } from './commands/search.js';
import { CliError, EXIT } from './errors.js';
import { terminalSafe } from './output/sanitise.js';
import { colorsFor } from './output/terminal.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

function formatOption(): Option {
  return new Option('--format <format>', 'output format').choices(['text', 'json']).default('text');
}

function createProgram(setExitCode: (code: number) => void): Command {
  const program = new Command('packctl')
    .description('Scaffold, lint, build, push and pull Packyard packs (Kubernetes cluster profile layers).')
    .version(version, '-V, --version')
    .enablePositionalOptions()
    .showHelpAfterError('(run packctl help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });

  program
    .command('lint')
    .description('check a pack directory against every lint rule (no network)')
    .argument('<dir>', 'the pack directory (holding pack.json)')
    .addOption(formatOption())
    .option('--strict', 'treat warnings as errors (exit 1)')
    .addHelpText(
      'after',
      `
Exit codes: 0 no errors, 1 errors (or warnings with --strict), 2 usage error.

Examples:
  packctl lint sample-packs/cni-calico
  packctl lint . --format json | jq '.findings[] | select(.severity == "error")'`,
    )
    .action(async (dir: string, options: { format: 'text' | 'json'; strict?: boolean }) => {
      setExitCode(await lintCommand(dir, options));
    });

  program
    .command('build')
    .description('lint, then write <name>-<version>.zip reproducibly (same input, same bytes)')
    .argument('<dir>', 'the pack directory (holding pack.json)')
    .option('-o, --output <dir>', 'where to write the archive', '.')
    .addOption(formatOption())
    .option('--strict', 'refuse to build when lint finds warnings')
    .addHelpText(
      'after',
      `
Files listed in DIR/.packignore (gitignore syntax) are left out, as are .git/, node_modules/
and .DS_Store. Entry times come from SOURCE_DATE_EPOCH, else 1980-01-01.

Examples:
  packctl build sample-packs/cert-manager -o dist/
  packctl build . -o dist/ --format json | jq -r .digest`,
    )
    .action(async (dir: string, options: { output: string; format: 'text' | 'json'; strict?: boolean }) => {
      setExitCode(await buildCommand(dir, options));
    });

  program
    .command('init')
    .description('scaffold a new pack that lints clean and builds')
    .argument('<name>', 'pack name: lowercase letters, digits and hyphens')
    .addOption(new Option('--layer <layer>', 'the profile layer').choices([...LAYERS]).makeOptionMandatory())
    .addOption(new Option('--chart', 'deploy with a Helm chart (a starter chart is generated)').conflicts('manifest'))
    .addOption(new Option('--manifest', 'deploy with Kubernetes manifests').conflicts('chart'))
    .option('-d, --dir <dir>', 'directory to create (default: ./<name>)')
    .option('--version <version>', 'initial pack version', '1.0.0')
    .option('--display-name <text>', 'human-readable name (default: from <name>)')
    .addOption(formatOption())
    .addHelpText(
      'after',
      `
Examples:
  packctl init my-monitoring --layer addon --chart
  packctl init lb-config --layer addon --manifest -d packs/lb-config
  packctl init ubuntu-edge --layer os`,
    )
    .action(async (name: string, options: Parameters<typeof initCommand>[1]) => {
      setExitCode(await initCommand(name, options));
    });

  const AUTH_EXITS = `
Exit codes: 0 ok, 1 failure, 2 usage, 3 not logged in or not allowed, 4 not found, 5 conflict.`;
  const connection = (command: Command) =>
    command
      .option('--server <url>', 'the registry server (default: PACKCTL_SERVER, or the one packctl login made default)')
      .option('--config <file>', 'credentials file (default: PACKCTL_CONFIG or ~/.packctl/config.json)')
      .addOption(formatOption());

  program
    .command('login')
    .description('sign in to a registry server and keep the credentials in ~/.packctl/config.json (mode 0600)')
    .argument('[server]', 'e.g. https://packs.example.com (default: PACKCTL_SERVER or the default registry)')
    .option('-u, --username <name>', 'username (prompted on a terminal)')
    .option('--password-stdin', 'read the password from stdin (CI)')
    .option('--api-key <key>', 'sign in with an API key instead of a password (CI)')
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
  packctl login https://packs.example.com --api-key "$PACKYARD_API_KEY" --default`,
    )
    .action(async (server: string | undefined, options: Parameters<typeof loginCommand>[1]) => {
      setExitCode(await loginCommand(server, options));
    });

  program
    .command('logout')
    .description("forget a server's credentials")
    .argument('[server]', 'default: the default registry server')
    .option('--config <file>', 'credentials file')
    .addOption(formatOption())
    .action(async (server: string | undefined, options: Parameters<typeof logoutCommand>[1]) => {
      setExitCode(await logoutCommand(server, options));
    });

  connection(program.command('whoami').description('who the registry server sees you as'))
    .addHelpText('after', AUTH_EXITS)
    .action(async (options: Parameters<typeof whoamiCommand>[0]) => {
      setExitCode(await whoamiCommand(options));
    });

  connection(
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
    .action(async (options: Parameters<typeof passwdCommand>[0]) => {
      setExitCode(await passwdCommand(options));
    });

  const registry = program.command('registry').description('the registry servers you are logged in to');
  registry
    .command('ls')
    .description('list them, the default marked with *')
    .option('--config <file>', 'credentials file')
    .addOption(formatOption())
    .action(async (options: Parameters<typeof registryListCommand>[0]) => {
      setExitCode(await registryListCommand(options));
    });
  registry
    .command('use')
    .description('make one the default')
    .argument('<server>', 'a server you are logged in to')
    .option('--config <file>', 'credentials file')
    .addOption(formatOption())
    .action(async (server: string, options: Parameters<typeof registryUseCommand>[1]) => {
      setExitCode(await registryUseCommand(server, options));
    });

  connection(
    program
      .command('push')
      .description('build a pack directory (or take a built zip) and publish it to a registry')
      .argument('<target>', 'a pack directory or a zip from packctl build')
      .option('-r, --registry <name>', 'the registry on the server', 'public')
      .option('--force', 'replace the bytes of a published version (the registry must allow it)')
      .option('-m, --message <text>', 'why (required with --force)')
      .option('-q, --quiet', 'print nothing on success'),
  )
    .addHelpText(
      'after',
      `${AUTH_EXITS}

Examples:
  packctl push sample-packs/cni-calico
  packctl push dist/cni-calico-3.27.2.zip --registry acme-private
  packctl push . --force -m "rebuilt with the fixed values.yaml"`,
    )
    .action(async (target: string, options: Parameters<typeof pushCommand>[1]) => {
      setExitCode(await pushCommand(target, options));
    });

  connection(
    program
      .command('pull')
      .description('download a pack, verify its digest, and optionally extract it')
      .argument('<pack>', 'NAME, NAME@VERSION, NAME@RANGE or NAME@TAG (1.29.x)')
      .option('-r, --registry <name>', 'the registry on the server', 'public')
      .option('-o, --output <dir>', 'where to write it', '.')
      .option('--extract', 'also extract it into <output>/<name>-<version>'),
  )
    .addHelpText(
      'after',
      `${AUTH_EXITS}

Examples:
  packctl pull cni-calico
  packctl pull kubernetes@1.29.x -o vendor --extract
  packctl pull prometheus-operator@'^45.0.0' --registry acme-private`,
    )
    .action(async (ref: string, options: Parameters<typeof pullCommand>[1]) => {
      setExitCode(await pullCommand(ref, options));
    });

  connection(
    program
      .command('search')
      .description('search the packs of every registry you can read')
      .argument('[text]', 'words to find in names, display names, add-on types and annotations')
      .option('--layer <layer>', 'os, k8s, cni, csi, addon')
      .option('--cloud <cloud>', 'packs for this cloud (or for all clouds)')
      .option('--addon-type <type>', 'e.g. monitoring')
      .option('-r, --registry <name>', 'only this registry')
      .option('--limit <n>', 'rows (1-500)', '50'),
  )
    .addHelpText(
      'after',
      `${AUTH_EXITS}

Examples:
  packctl search calico
  packctl search --layer cni --cloud aws`,
    )
    .action(async (text: string | undefined, options: Parameters<typeof searchCommand>[1]) => {
      setExitCode(await searchCommand(text, options));
    });

  connection(
    program
      .command('show')
      .description("a pack's versions, line tags, layer and clouds; or one version's record")
      .argument('<pack>', 'NAME or NAME@VERSION')
      .option('-r, --registry <name>', 'the registry on the server', 'public'),
  )
    .addHelpText(
      'after',
      `${AUTH_EXITS}

Examples:
  packctl show cni-calico
  packctl show cni-calico@3.27.x --format json`,
    )
    .action(async (ref: string, options: Parameters<typeof showCommand>[1]) => {
      setExitCode(await showCommand(ref, options));
    });

  const profile = program
    .command('profile')
    .description('cluster profiles: packs by layer, resolved against a registry');
  connection(
    profile
      .command('resolve')
      .description('resolve a profile file into exact layers, check its constraints, and write FILE.lock')
      .argument('<file>', 'the profile (YAML or JSON, schemas/profile.schema.json)')
      .option('--no-lock', 'do not write FILE.lock')
      .option('--frozen', 'fail when FILE.lock no longer matches, instead of rewriting it'),
  )
    .addHelpText(
      'after',
      `${AUTH_EXITS} A profile with problems exits 1, listing every one.

Examples:
  packctl profile resolve prod-aws.yaml
  packctl profile resolve prod-aws.yaml --frozen          # in CI: the lock must be current
  packctl profile resolve prod-aws.yaml --format json | jq '.layers[] | .name + "@" + .version'`,
    )
    .action(async (file: string, options: Parameters<typeof profileResolveCommand>[1]) => {
      setExitCode(await profileResolveCommand(file, options));
    });

  connection(
    profile
      .command('pull')
      .description('download every pack of a resolved profile, verified, with the lock: for an air-gapped site')
      .argument('<file>', 'the profile')
      .option('-o, --output <dir>', 'where to put the packs, the lock and the profile', '.'),
  )
    .addHelpText('after', `${AUTH_EXITS}\n\nExample:\n  packctl profile pull prod-aws.yaml -o airgap/prod-aws`)
    .action(async (file: string, options: Parameters<typeof profilePullCommand>[1]) => {
      setExitCode(await profilePullCommand(file, options));
    });

  connection(
    profile
      .command('push')
      .description('store a profile on the server (system scope, or a tenant, or a project of it)')
      .argument('<file>', 'the profile')
      .option('--tenant <name>', 'store it in this tenant')
      .option('--project <name>', 'store it in this project of the tenant'),
  )
    .addHelpText(
      'after',
      `${AUTH_EXITS}\n\nExamples:\n  packctl profile push prod-aws.yaml --tenant acme\n  packctl profile push edge.yaml --tenant acme --project edge`,
    )
    .action(async (file: string, options: Parameters<typeof profilePushCommand>[1]) => {
      setExitCode(await profilePushCommand(file, options));
    });

  connection(
    program
      .command('deprecate')
      .description('mark a version deprecated (resolvers skip it unless pinned), or --undo')
      .argument('<pack>', 'NAME@VERSION')
      .option('-m, --message <text>', 'why, and what to use instead')
      .option('--undo', 'clear the deprecation')
      .option('-r, --registry <name>', 'the registry on the server', 'public'),
  )
    .addHelpText(
      'after',
      `${AUTH_EXITS}\n\nExample:\n  packctl deprecate cni-calico@3.26.4 -m "use 3.27.x: CVE-2024-1234"`,
    )
    .action(async (ref: string, options: Parameters<typeof deprecateCommand>[1]) => {
      setExitCode(await deprecateCommand(ref, options));
    });

  connection(
    program
      .command('rm')
      .description('delete a version, leaving a tombstone: only the same bytes can ever be published again')
      .argument('<pack>', 'NAME@VERSION')
      .option('-m, --message <text>', 'why')
      .option('-r, --registry <name>', 'the registry on the server', 'public'),
  )
    .addHelpText(
      'after',
      `${AUTH_EXITS}\n\nExample:\n  packctl rm my-addon@0.0.1-test --registry acme-private -m "pushed by mistake"`,
    )
    .action(async (ref: string, options: Parameters<typeof removeCommand>[1]) => {
      setExitCode(await removeCommand(ref, options));
    });

  return program;
}

function report(message: string, hint: string | undefined): void {
  const c = colorsFor(process.stderr);
  process.stderr.write(`${c.red('error:')} ${terminalSafe(message, { multiline: true })}\n`);
  if (hint) process.stderr.write(`${c.dim(`hint: ${terminalSafe(hint, { multiline: true })}`)}\n`);
}

/** Runs packctl with the given arguments (without "node packctl") and returns the exit code. */
export async function run(argv: readonly string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = createProgram((code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and --version end through here too, with exit code 0; commander printed the message.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof CliError) {
      report(err.message, err.hint);
      return err.exitCode;
    }
    if (isPackError(err)) {
      report(err.message, err.hint);
      return EXIT.failure;
    }
    const errno = err as NodeJS.ErrnoException;
    if (typeof errno.code === 'string' && typeof errno.message === 'string') {
      report(errno.message, errno.code === 'EACCES' ? 'check the permissions of the path' : undefined);
      return EXIT.failure;
    }
    // Anything else is a bug, or an answer of a shape packctl did not expect: one line, made safe,
    // instead of Node's report of an uncaught error (which would print the message raw).
    report(
      `packctl failed unexpectedly: ${err instanceof Error ? err.message : String(err)}`,
      'if a registry server was involved, check that it is a Packyard registry; otherwise please report this',
    );
    return EXIT.failure;
  }
}
