/**
 * `packctl completion`: the scripts generated from a commander tree of real command modules (lint,
 * profile, login's `server`, registry with its hidden `registry use`) and a few made-up commands
 * (a hidden one, one whose descriptions hold quotes, brackets, colons and backslashes). The scripts
 * run in real shells in test/completion.test.ts.
 */
import { Writable } from 'node:stream';
import { Argument, Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import type { CommandContext } from '../command.js';
import { processIo } from '../io.js';
import { completionCommands } from './completion-command.js';
import { lintCommands } from './lint-command.js';
import { loginCommands } from './login-command.js';
import { profileCommands } from './profile-command.js';
import { registryCommands } from './registry-command.js';
import { completionScript, completionTree, type CompletionNode, type Shell } from './completion.js';

const TRICKY = `it's "quoted" [really]: (a \\ b) $HOME`;

/** A program as cli.ts builds it, with some of the real command modules and some made up. */
function testProgram(context: CommandContext): Command {
  const program = new Command('packctl')
    .version('0.0.0', '-V, --version')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });
  for (const define of [lintCommands, loginCommands, profileCommands, registryCommands, completionCommands]) {
    define(program, context);
  }
  program.command('secret', { hidden: true }).description('not for users').option('--sesame');
  program
    .command('tricky')
    .description(TRICKY)
    .addOption(new Option('--mode <mode>', TRICKY).choices(['fast', 'slow', 'no way', '$(rm -rf ~)']))
    .addArgument(new Argument('[files...]', 'the files'))
    .option('--hidden-flag', 'never offered')
    .addOption(new Option('--internal', 'not offered either').hideHelp());
  return program;
}

function capture(): { context: CommandContext; stdout: () => string; exitCode: () => number | undefined } {
  let text = '';
  let exitCode: number | undefined;
  const stdout = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString('utf8');
      callback();
    },
  });
  return {
    context: {
      io: { ...processIo(), stdout },
      exit: (code) => {
        exitCode = code;
      },
    },
    stdout: () => text,
    exitCode: () => exitCode,
  };
}

/** `packctl completion SHELL` on the test program, as a user runs it. */
async function generated(shell: Shell): Promise<string> {
  const run = capture();
  await testProgram(run.context).parseAsync(['completion', shell], { from: 'user' });
  expect(run.exitCode()).toBe(0);
  return run.stdout();
}

function node(root: CompletionNode, ...path: string[]): CompletionNode | undefined {
  let found: CompletionNode | undefined = root;
  for (const name of path) found = found?.subcommands.find((sub) => sub.names.includes(name));
  return found;
}

describe('completionTree', () => {
  const root = completionTree(testProgram(capture().context));

  it('has every visible command, nested, with commander’s implicit help', () => {
    expect(root.subcommands.map((sub) => sub.names[0])).toEqual(
      expect.arrayContaining(['lint', 'profile', 'server', 'registry', 'completion', 'tricky', 'help']),
    );
    expect(node(root, 'profile')?.subcommands.map((sub) => sub.names[0])).toEqual([
      'resolve',
      'pull',
      'push',
      'ls',
      'show',
      'diff',
      'rm',
      'help',
    ]);
    expect(node(root, 'server', 'ls')?.path).toEqual(['packctl', 'server', 'ls']);
    expect(node(root, 'help')?.arguments[0]?.value).toMatchObject({ kind: 'words' });
  });

  it('leaves hidden commands and options out', () => {
    expect(node(root, 'secret')).toBeUndefined();
    expect(node(root, 'registry', 'use')).toBeUndefined();
    expect(node(root, 'registry')?.subcommands.map((sub) => sub.names[0])).toEqual([
      'ls',
      'show',
      'create',
      'update',
      'help',
    ]);
    expect(node(root, 'tricky')?.options.flatMap((option) => option.names)).not.toContain('--internal');
  });

  it('knows choices, files and directories', () => {
    const lint = node(root, 'lint');
    expect(lint?.options.find((option) => option.names.includes('--format'))?.value).toEqual({
      kind: 'words',
      words: ['text', 'json'],
    });
    expect(lint?.arguments[0]?.value).toEqual({ kind: 'dir' });
    const pull = node(root, 'profile', 'pull');
    expect(pull?.arguments[0]?.value).toEqual({ kind: 'file' });
    expect(pull?.options.find((option) => option.names.includes('-o'))).toMatchObject({
      names: ['-o', '--output'],
      takesValue: true,
      value: { kind: 'dir' },
    });
    expect(node(root, 'completion')?.arguments[0]?.value).toEqual({ kind: 'words', words: ['bash', 'zsh', 'fish'] });
    expect(node(root, 'tricky')?.arguments[0]).toMatchObject({ variadic: true, value: { kind: 'file' } });
    // Choices that are not plain words are never written into a script.
    expect(node(root, 'tricky')?.options[0]?.value).toEqual({ kind: 'words', words: ['fast', 'slow'] });
  });
});

describe('packctl completion bash', () => {
  it('lists nested commands, their options and values, and no hidden command', async () => {
    const script = await generated('bash');
    expect(script).toContain('complete -F _packctl packctl');
    expect(script).toMatch(/^ {4}'packctl' *\) _packctl_subs='lint [^']*profile [^']*completion tricky help'/m);
    expect(script).toContain(`'packctl profile') _packctl_subs='resolve pull push ls show diff rm help'`);
    expect(script).toContain(`'packctl profile|resolve') _packctl_next='packctl profile resolve'`);
    expect(script).toContain(`'packctl server|ls') _packctl_next='packctl server ls'`);
    expect(script).toMatch(/'packctl lint'\) .*_packctl_opts='--format --strict -h --help'/);
    expect(script).toContain(`'packctl lint|--format') _packctl_act=words _packctl_words='text json' ;;`);
    expect(script).toContain(`'packctl profile pull|-o'|'packctl profile pull|--output') _packctl_act=dir ;;`);
    expect(script).toContain(`'packctl profile resolve|0') _packctl_act=file ;;`);
    expect(script).toContain(`'packctl completion|0') _packctl_act=words _packctl_words='bash zsh fish' ;;`);
    expect(script).not.toContain('secret');
    expect(script).not.toContain('sesame');
    expect(script).not.toContain('registry|use');
    expect(script).not.toContain('rm -rf');
    expect(script).not.toContain('--internal');
  });
});

describe('packctl completion zsh', () => {
  it('defines a function per command, dispatching to the nested ones', async () => {
    const script = await generated('zsh');
    expect(script.startsWith('#compdef packctl\n')).toBe(true);
    expect(script).toContain('_packctl_profile_resolve() {');
    expect(script).toContain('        (resolve) _packctl_profile_resolve && ret=0 ;;');
    expect(script).toContain(`'resolve:resolve a profile file into exact layers`);
    expect(script).toContain(`'--format=[output format]:format:(text json)'`);
    expect(script).toContain(`'(-o --output)-o+[where to put the packs, the lock and the profile]:dir:_files -/'`);
    expect(script).toContain(`':the shell:(bash zsh fish)'`);
    expect(script).toContain(`'*:the files:_files'`);
    expect(script).toContain('compdef _packctl packctl');
    expect(script).not.toContain('secret');
    expect(script).toContain('_packctl_server_use() {');
    expect(script).not.toContain('_packctl_registry_use');
  });

  it('escapes descriptions for the shell and for _arguments and _describe', async () => {
    const script = await generated('zsh');
    // _describe: name:description, the whole item one single-quoted word.
    expect(script).toContain(`'tricky:it'\\''s "quoted" [really]: (a \\ b) $HOME'`);
    // _arguments: [description] with its brackets and backslashes escaped.
    expect(script).toContain(`'--mode=[it'\\''s "quoted" \\[really\\]: (a \\\\ b) $HOME]:mode:(fast slow)'`);
  });
});

describe('packctl completion fish', () => {
  it('completes nested commands under conditions on the command line', async () => {
    const script = await generated('fish');
    expect(script).toContain('complete -c packctl -f');
    expect(script).toContain(
      `complete -c packctl -n '__packctl_arg 0 packctl profile' -a resolve -d 'resolve a profile file into exact layers`,
    );
    expect(script).toContain(`complete -c packctl -n '__packctl_arg 0 packctl server' -a ls -d 'list them`);
    expect(script).toContain(
      `complete -c packctl -n '__packctl_at packctl lint' -l format -d 'output format' -x -a 'text json'`,
    );
    expect(script).toContain(`complete -c packctl -n '__packctl_at packctl profile pull' -s o -l output -d`);
    expect(script).toContain(`complete -c packctl -n '__packctl_arg 0 packctl profile resolve' -F`);
    expect(script).toContain(`complete -c packctl -n '__packctl_arg 0+ packctl tricky' -F`);
    expect(script).toContain(`        case 'packctl profile|resolve'\n            echo 'packctl profile resolve'`);
    expect(script).not.toContain('secret');
    expect(script).not.toContain(`'packctl registry|use'`);
  });

  it('escapes descriptions for fish’s single quotes', async () => {
    const script = await generated('fish');
    expect(script).toContain(`-a tricky -d 'it\\'s "quoted" [really]: (a \\\\ b) $HOME'`);
  });
});

describe('packctl completion', () => {
  it('refuses a shell it does not know', async () => {
    const run = capture();
    await expect(testProgram(run.context).parseAsync(['completion', 'tcsh'], { from: 'user' })).rejects.toThrow(
      /Allowed choices/,
    );
  });

  it('turns a multi-line description into one line', () => {
    const program = new Command('x');
    program.command('y').description('first\nsecond\tthird');
    expect(completionScript(program, 'fish')).toContain(`-a y -d 'first second third'`);
  });
});
