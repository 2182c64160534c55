/** `packctl init`: its command line; the implementation (./init.ts) is loaded when it runs. */
import { Option } from 'commander';
import { packManifestSchema } from '@packyard/pack-core/manifest-schema';
import { formatOption, withPaths, type CommandModule } from '../command.js';
import type { InitOptions } from './init.js';

export const initCommands: CommandModule = (program, { io, exit }) => {
  program
    .command('init')
    .description('scaffold a new pack that builds (lint warns about its TODOs until you fill them in)')
    .argument('<name>', 'pack name: lowercase letters, digits and hyphens')
    .addOption(
      new Option('--layer <layer>', 'the profile layer')
        .choices([...packManifestSchema.$defs.layer.enum])
        .makeOptionMandatory(),
    )
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
    .action(async (name: string, options: InitOptions) => {
      const { initCommand } = await import('./init.js');
      exit(await initCommand(name, withPaths(io, options, 'dir'), io));
    });
};
