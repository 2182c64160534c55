/**
 * packctl's command line: commander wiring only. Each command is an async function in
 * ./commands that returns an exit code or throws; `run` maps every failure to an exit code and
 * one readable message (never a stack trace).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { isPackError, LAYERS } from '@packyard/pack-core';
import { buildCommand } from './commands/build.js';
import { initCommand } from './commands/init.js';
import { lintCommand } from './commands/lint.js';
import { CliError, EXIT } from './exit-codes.js';
import { colorsFor } from './output/terminal.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

function formatOption(): Option {
  return new Option('--format <format>', 'output format').choices(['text', 'json']).default('text');
}

function createProgram(setExitCode: (code: number) => void): Command {
  const program = new Command('packctl')
    .description('Scaffold, lint and build Packyard packs (Kubernetes cluster profile layers).')
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

  return program;
}

function report(message: string, hint: string | undefined): void {
  const c = colorsFor(process.stderr);
  process.stderr.write(`${c.red('error:')} ${message}\n`);
  if (hint) process.stderr.write(`${c.dim(`hint: ${hint}`)}\n`);
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
    throw err;
  }
}
