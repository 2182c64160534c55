/**
 * `packctl completion bash|zsh|fish`: a static completion script, generated from the commander tree
 * that every command module has registered (so a new command, option or choice completes without
 * touching this file). Scripts never call packctl back: they list every visible command and
 * subcommand (hidden ones are left out), their options (with the choices commander knows) and
 * complete file or directory names where an argument or an option value names a path.
 *
 * Everything a script says comes from commander's definitions, never from a user or a server; still,
 * names and choices are only written when they are plain words (see {@link SAFE_NAME}, {@link SAFE_WORD})
 * and every description is quoted and escaped for its shell (they hold quotes, brackets and colons).
 */
import type { Argument, Command, Option } from 'commander';
import { EXIT, type ExitCode } from '../errors.js';
import type { CliIo } from '../io.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** What completes a value: fixed words, file names, directory names, or nothing (free text). */
export type ValueCompletion =
  { kind: 'words'; words: string[] } | { kind: 'file' } | { kind: 'dir' } | { kind: 'none' };

export interface CompletionOption {
  /** Its flags, short first: `['-o', '--output']`. */
  names: string[];
  description: string;
  /** Whether it takes a value (`<value>`); an optional value (`[value]`) is completed as a flag. */
  takesValue: boolean;
  /** The placeholder of its value (`dir` in `--output <dir>`), or ''. */
  valueName: string;
  value: ValueCompletion;
}

export interface CompletionArgument {
  name: string;
  description: string;
  required: boolean;
  variadic: boolean;
  value: ValueCompletion;
}

export interface CompletionNode {
  /** The command words from the program's name on: `['packctl', 'profile', 'resolve']`. */
  path: string[];
  /** Its name, then its aliases. */
  names: string[];
  description: string;
  options: CompletionOption[];
  arguments: CompletionArgument[];
  subcommands: CompletionNode[];
}

/** A command name that every shell can take as it is, in a case pattern or a function name. */
const SAFE_NAME = /^\w[\w.-]*$/;
/** An option's flag: `-o`, `--output`, `--no-lock`. */
const SAFE_FLAG = /^--?\w[\w.-]*$/;
/** A choice that needs no quoting in a word list (no spaces, globs, quotes, `$` or `:`). */
const SAFE_WORD = /^[\w%+,./=@-]+$/;

/** Placeholder names (in `<file>`, `[dir]`, `--config <file>`) whose values are paths. */
const FILE_NAME = /^(?:.*-)?(?:file|path)s?$/;
const DIR_NAME = /^(?:.*-)?(?:dir|directory|folder)s?$/;
/** Names of arguments that take a file or a directory (`push <target>`: a pack directory or a zip). */
const PATH_NAMES: ReadonlySet<string> = new Set(['target']);

function valueCompletion(name: string, choices: readonly string[] | undefined): ValueCompletion {
  if (choices && choices.length > 0) return { kind: 'words', words: choices.filter((word) => SAFE_WORD.test(word)) };
  const key = name.toLowerCase().replace(/\.\.\.$/, '');
  if (DIR_NAME.test(key)) return { kind: 'dir' };
  if (FILE_NAME.test(key) || PATH_NAMES.has(key)) return { kind: 'file' };
  return { kind: 'none' };
}

/** One line of plain text: control characters and runs of white space become one space. */
function oneLine(text: string): string {
  let line = '';
  for (const char of text) line += char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f ? ' ' : char;
  return line.replace(/\s+/g, ' ').trim();
}

/** The placeholder in an option's flags: `dir` in `-o, --output <dir>`. */
function placeholder(flags: string): string {
  const open = flags.search(/[<[]/);
  if (open < 0) return '';
  const close = flags.slice(open + 1).search(/[>\]]/);
  return close < 0 ? '' : flags.slice(open + 1, open + 1 + close);
}

function completionOption(option: Option): CompletionOption | undefined {
  const names = [option.short, option.long].filter((flag): flag is string => !!flag && SAFE_FLAG.test(flag));
  if (names.length === 0) return undefined;
  const valueName = placeholder(option.flags);
  return {
    names,
    description: oneLine(option.description),
    takesValue: option.required,
    valueName,
    value: option.required ? valueCompletion(valueName, option.argChoices) : { kind: 'none' },
  };
}

function completionArgument(
  argument: Argument,
  choices: readonly string[] | undefined = argument.argChoices,
): CompletionArgument {
  return {
    name: argument.name(),
    description: oneLine(argument.description),
    required: argument.required,
    variadic: argument.variadic,
    value: valueCompletion(argument.name(), choices),
  };
}

/**
 * `command` as the scripts complete it. `helpFor` is set for commander's implicit `help [command]`
 * (a placeholder that is not in its parent's commands): the names its argument completes.
 */
function completionNode(command: Command, path: string[], helpFor?: readonly string[]): CompletionNode {
  const help = command.createHelp();
  const visible = help.visibleCommands(command).filter((sub) => SAFE_NAME.test(sub.name()));
  const names = visible.map((sub) => sub.name()).filter((name) => name !== 'help');
  return {
    path,
    names: [command.name(), ...command.aliases()].filter((name) => SAFE_NAME.test(name)),
    description: oneLine(command.summary() || command.description()),
    options: help
      .visibleOptions(command)
      .map(completionOption)
      .filter((option) => option !== undefined),
    arguments: command.registeredArguments.map((argument) => completionArgument(argument, helpFor)),
    subcommands: visible.map((sub) =>
      completionNode(sub, [...path, sub.name()], command.commands.includes(sub) ? undefined : names),
    ),
  };
}

/** The visible commands of `program`, with their options and arguments, as the scripts complete them. */
export function completionTree(program: Command): CompletionNode {
  return completionNode(program, [program.name()]);
}

function* walk(node: CompletionNode): Generator<CompletionNode> {
  yield node;
  for (const sub of node.subcommands) yield* walk(sub);
}

/** `text` as one single-quoted word of sh, bash and zsh. */
function shQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** `text` as one single-quoted word of fish (whose single quotes take `\\` and `\'`). */
function fishQuote(text: string): string {
  return `'${text.replace(/[\\']/g, (char) => `\\${char}`)}'`;
}

// ---------------------------------------------------------------------------------------------
// bash: `complete -F`, COMP_WORDS walked against the tree (tables as case statements).

function bashScript(root: CompletionNode): string {
  const program = root.path[0] ?? 'packctl';
  const fn = `_${program.replace(/\W/g, '_')}`;
  const nodes = [...walk(root)];
  const key = (node: CompletionNode) => node.path.join(' ');
  const valueOf = (value: ValueCompletion): string | undefined => {
    switch (value.kind) {
      case 'words':
        return `${fn}_act=words ${fn}_words=${shQuote(value.words.join(' '))}`;
      case 'file':
      case 'dir':
        return `${fn}_act=${value.kind}`;
      case 'none':
        return undefined;
    }
  };

  const nodeCases = nodes.map((node) => {
    const subs = node.subcommands.flatMap((sub) => sub.names);
    const options = node.options.flatMap((option) => option.names);
    const valueOptions = node.options.filter((option) => option.takesValue).flatMap((option) => option.names);
    const last = node.arguments.at(-1);
    return (
      `    ${shQuote(key(node))}) ${fn}_subs=${shQuote(subs.join(' '))} ${fn}_opts=${shQuote(options.join(' '))}` +
      ` ${fn}_vopts=${shQuote(valueOptions.join(' '))} ${fn}_nargs=${node.arguments.length}` +
      ` ${fn}_variadic=${last?.variadic ? 1 : 0} ;;`
    );
  });
  const childCases = nodes.flatMap((node) =>
    node.subcommands.map(
      (sub) =>
        `    ${sub.names.map((name) => shQuote(`${key(node)}|${name}`)).join('|')}) ${fn}_next=${shQuote(key(sub))} ;;`,
    ),
  );
  const actionCases = nodes.flatMap((node) => [
    ...node.options.flatMap((option) => {
      const action = valueOf(option.value);
      if (!option.takesValue || !action) return [];
      return [`    ${option.names.map((name) => shQuote(`${key(node)}|${name}`)).join('|')}) ${action} ;;`];
    }),
    ...node.arguments.flatMap((argument, index) => {
      const action = valueOf(argument.value);
      return action ? [`    ${shQuote(`${key(node)}|${index}`)}) ${action} ;;`] : [];
    }),
  ]);

  return `# bash completion for ${program}                                 -*- shell-script -*-
# Generated by \`${program} completion bash\`; generate it again after upgrading ${program}.
#   source <(${program} completion bash)                          # in this shell
#   ${program} completion bash > /etc/bash_completion.d/${program}    # in every new shell

# ${fn}_node PATH: the subcommands, options, options taking a value and arguments of command PATH.
${fn}_node() {
  case $1 in
${nodeCases.join('\n')}
    *) ${fn}_subs='' ${fn}_opts='' ${fn}_vopts='' ${fn}_nargs=0 ${fn}_variadic=0 ;;
  esac
}

# ${fn}_child PATH WORD: the command WORD (a name or an alias) names under command PATH, if any.
${fn}_child() {
  case "$1|$2" in
${childCases.join('\n')}
    *) ${fn}_next='' ;;
  esac
}

# ${fn}_action 'PATH|OPTION' or 'PATH|INDEX': how the value of an option or argument completes.
${fn}_action() {
  ${fn}_act='' ${fn}_words=''
  case $1 in
${actionCases.join('\n')}
  esac
}

# ${fn}_reply CURRENT [PREFIX]: COMPREPLY for the action ${fn}_action chose.
${fn}_reply() {
  local line
  case $${fn}_act in
    words) while IFS= read -r line; do COMPREPLY+=("\${2-}$line"); done < <(compgen -W "$${fn}_words" -- "$1") ;;
    file)
      compopt -o filenames 2>/dev/null
      while IFS= read -r line; do COMPREPLY+=("\${2-}$line"); done < <(compgen -f -- "$1")
      ;;
    dir)
      compopt -o filenames 2>/dev/null
      while IFS= read -r line; do COMPREPLY+=("\${2-}$line"); done < <(compgen -d -- "$1")
      ;;
  esac
}

${fn}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmd=${shQuote(program)} word line option='' options=1 args=0 i
  local ${fn}_subs ${fn}_opts ${fn}_vopts ${fn}_nargs ${fn}_variadic ${fn}_next ${fn}_act ${fn}_words
  COMPREPLY=()
  ${fn}_node "$cmd"
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    if [[ -n $option ]]; then
      # The value of an option (bash splits --option=value into --option, = and value).
      [[ $word == = ]] || option=''
      continue
    fi
    if [[ $options == 1 && $word == -- ]]; then
      options=0
    elif [[ $options == 1 && $word == -?* ]]; then
      [[ $word != *=* && " $${fn}_vopts " == *" $word "* ]] && option=$word
    else
      ${fn}_next=''
      [[ $args == 0 ]] && ${fn}_child "$cmd" "$word"
      if [[ -n $${fn}_next ]]; then
        cmd=$${fn}_next
        ${fn}_node "$cmd"
      else
        args=$((args + 1))
      fi
    fi
  done

  if [[ -n $option ]]; then
    [[ $cur == = ]] && cur=''
    ${fn}_action "$cmd|$option"
    ${fn}_reply "$cur"
    return 0
  fi
  if [[ $options == 1 && $cur == -* ]]; then
    if [[ $cur == --*=* ]]; then
      # --option=value as one word (COMP_WORDBREAKS without =).
      option=\${cur%%=*}
      if [[ " $${fn}_vopts " == *" $option "* ]]; then
        ${fn}_action "$cmd|$option"
        ${fn}_reply "\${cur#*=}" "$option="
      fi
      return 0
    fi
    while IFS= read -r line; do COMPREPLY+=("$line"); done < <(compgen -W "$${fn}_opts" -- "$cur")
    return 0
  fi
  if [[ -n $${fn}_subs && $args == 0 ]]; then
    while IFS= read -r line; do COMPREPLY+=("$line"); done < <(compgen -W "$${fn}_subs" -- "$cur")
    return 0
  fi
  if ((args >= ${fn}_nargs)); then
    [[ $${fn}_variadic == 1 ]] || return 0
    args=$((${fn}_nargs - 1))
  fi
  ${fn}_action "$cmd|$args"
  ${fn}_reply "$cur"
  return 0
}

complete -F ${fn} ${program}
`;
}

// ---------------------------------------------------------------------------------------------
// zsh: one function per command, `_arguments` for options and arguments, `_describe` for subcommands.

/** Text for the [description] of an `_arguments` spec: `\` and brackets escaped. */
function zshBracketed(text: string): string {
  return text.replace(/[\\[\]]/g, (char) => `\\${char}`);
}

/** Text for the message of an `_arguments` spec, or the name of a `_describe` item: `\` and `:` escaped. */
function zshColonSafe(text: string): string {
  return text.replace(/[\\:]/g, (char) => `\\${char}`);
}

function zshAction(value: ValueCompletion): string {
  switch (value.kind) {
    case 'words':
      return `(${value.words.join(' ')})`;
    case 'file':
      return '_files';
    case 'dir':
      return '_files -/';
    case 'none':
      return ' ';
  }
}

function zshOptionSpecs(option: CompletionOption): string[] {
  const exclusion = option.names.length > 1 ? `(${option.names.join(' ')})` : '';
  const description = `[${zshBracketed(option.description)}]`;
  const value = option.takesValue ? `:${zshColonSafe(option.valueName || 'value')}:${zshAction(option.value)}` : '';
  return option.names.map((name) => {
    // --name=: the value in the same word after = or in the next; -n+: right after it or in the next.
    const suffix = option.takesValue ? (name.startsWith('--') ? '=' : '+') : '';
    return shQuote(`${exclusion}${name}${suffix}${description}${value}`);
  });
}

function zshArgumentSpec(argument: CompletionArgument): string {
  const prefix = argument.variadic ? '*:' : argument.required ? ':' : '::';
  const message = zshColonSafe(argument.description || argument.name);
  return shQuote(`${prefix}${message}:${zshAction(argument.value)}`);
}

function zshFunctionName(node: CompletionNode): string {
  return `_${node.path.join('_')}`;
}

function zshFunction(node: CompletionNode): string {
  const fn = zshFunctionName(node);
  const options = node.options.flatMap(zshOptionSpecs);
  if (node.subcommands.length === 0) {
    const specs = [...options, ...node.arguments.map(zshArgumentSpec)];
    return `${fn}() {
  _arguments -s -S${specs.map((spec) => ` \\\n    ${spec}`).join('')}
}`;
  }
  const items = node.subcommands.flatMap((sub) =>
    sub.names.map((name) => shQuote(`${zshColonSafe(name)}:${sub.description}`)),
  );
  const dispatch = node.subcommands.map(
    (sub) => `        (${sub.names.join('|')}) ${zshFunctionName(sub)} && ret=0 ;;`,
  );
  return `${fn}() {
  local curcontext=$curcontext state state_descr line ret=1
  local -A opt_args
  _arguments -C -s -S${options.map((spec) => ` \\\n    ${spec}`).join('')} \\
    ': :->command' \\
    '*:: :->argument' && ret=0
  case $state in
    (command)
      local -a commands
      commands=(
${items.map((item) => `        ${item}`).join('\n')}
      )
      _describe -t commands ${shQuote(`${node.path.join(' ')} command`)} commands && ret=0
      ;;
    (argument)
      curcontext=\${curcontext%:*:*}:${node.path.join('-')}-$words[1]:
      case $words[1] in
${dispatch.join('\n')}
      esac
      ;;
  esac
  return ret
}`;
}

function zshScript(root: CompletionNode): string {
  const program = root.path[0] ?? 'packctl';
  const fn = zshFunctionName(root);
  return `#compdef ${program}
# zsh completion for ${program}, generated by \`${program} completion zsh\`; generate it again after
# upgrading ${program}.
#   ${program} completion zsh > "\${fpath[1]}/_${program}"    # then start a new shell (compinit)
#   source <(${program} completion zsh)                       # in this shell, after compinit

${[...walk(root)].map(zshFunction).join('\n\n')}

if [[ $funcstack[1] == ${fn} ]]; then
  # Autoloaded from $fpath: this file is the body of ${fn}, which now completes.
  ${fn} "$@"
else
  compdef ${fn} ${program}
fi
`;
}

// ---------------------------------------------------------------------------------------------
// fish: `complete -c` lines, each under a condition on the command the command line is at.

function fishScript(root: CompletionNode): string {
  const program = root.path[0] ?? 'packctl';
  const prefix = `__${program.replace(/\W/g, '_')}`;
  const nodes = [...walk(root)];
  const key = (node: CompletionNode) => node.path.join(' ');
  const complete = (condition: string, rest: string) => `complete -c ${program} -n ${fishQuote(condition)} ${rest}`;
  const valueFlags = (value: ValueCompletion): string => {
    switch (value.kind) {
      case 'words':
        return `-x -a ${fishQuote(value.words.join(' '))}`;
      case 'file':
        return '-r -F';
      case 'dir':
        return `-x -a ${fishQuote('(__fish_complete_directories)')}`;
      case 'none':
        return '-x';
    }
  };

  const childCases = nodes.flatMap((node) =>
    node.subcommands.map(
      (sub) =>
        `        case ${sub.names.map((name) => fishQuote(`${key(node)}|${name}`)).join(' ')}\n            echo ${fishQuote(key(sub))}`,
    ),
  );
  const valueOptionCases = nodes.flatMap((node) => {
    const names = node.options.filter((option) => option.takesValue).flatMap((option) => option.names);
    return names.length > 0
      ? [`        case ${fishQuote(key(node))}\n            string join \\n -- ${names.join(' ')}`]
      : [];
  });

  const lines = nodes.flatMap((node) => {
    const at = `${prefix}_at ${key(node)}`;
    const commands = node.subcommands.flatMap((sub) =>
      sub.names.map((name) => complete(`${prefix}_arg 0 ${key(node)}`, `-a ${name} -d ${fishQuote(sub.description)}`)),
    );
    const options = node.options.map((option) => {
      const flags = option.names.map((name) => (name.startsWith('--') ? `-l ${name.slice(2)}` : `-s ${name.slice(1)}`));
      const value = option.takesValue ? ` ${valueFlags(option.value)}` : '';
      return complete(at, `${flags.join(' ')} -d ${fishQuote(option.description)}${value}`);
    });
    const args =
      node.subcommands.length > 0
        ? []
        : node.arguments.flatMap((argument, index) => {
            const position = argument.variadic ? `${index}+` : `${index}`;
            const condition = `${prefix}_arg ${position} ${key(node)}`;
            const description = fishQuote(argument.description || argument.name);
            switch (argument.value.kind) {
              case 'words':
                return [complete(condition, `-a ${fishQuote(argument.value.words.join(' '))} -d ${description}`)];
              case 'file':
                return [complete(condition, '-F')];
              case 'dir':
                return [complete(condition, `-a ${fishQuote('(__fish_complete_directories)')}`)];
              case 'none':
                return [];
            }
          });
    return [`# ${key(node)}`, ...commands, ...options, ...args];
  });

  return `# fish completion for ${program}, generated by \`${program} completion fish\`; generate it again after
# upgrading ${program}.
#   ${program} completion fish > ~/.config/fish/completions/${program}.fish

# ${prefix}_child 'PATH|WORD': the command WORD (a name or an alias) names under command PATH, if any.
function ${prefix}_child
    switch $argv[1]
${childCases.join('\n')}
    end
end

# ${prefix}_value_options PATH: the options of command PATH that take a value.
function ${prefix}_value_options
    switch $argv[1]
${valueOptionCases.join('\n')}
    end
end

# ${prefix}_state: the command the command line is at (e.g. "${program} profile resolve"), then how
# many of its arguments it has.
function ${prefix}_state
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l cmd ${fishQuote(program)}
    set -l args 0
    set -l value 0
    set -l options 1
    for token in $tokens
        if test $value = 1
            set value 0
        else if test $options = 1; and test "$token" = --
            set options 0
        else if test $options = 1; and string match -q -- '-?*' $token
            if not string match -q -- '*=*' $token; and contains -- $token (${prefix}_value_options $cmd)
                set value 1
            end
        else
            set -l next
            if test $args = 0
                set next (${prefix}_child "$cmd|$token")
            end
            if test -n "$next"
                set cmd $next
            else
                set args (math $args + 1)
            end
        end
    end
    echo $cmd
    echo $args
end

# ${prefix}_at PATH...: whether the command line is at command PATH.
function ${prefix}_at
    set -l state (${prefix}_state)
    test "$state[1]" = "$argv"
end

# ${prefix}_arg N[+] PATH...: whether it is at command PATH with N (or N or more) arguments given.
function ${prefix}_arg
    set -l position $argv[1]
    set -e argv[1]
    set -l state (${prefix}_state)
    test "$state[1]" = "$argv"; or return 1
    if string match -q -- '*+' $position
        test $state[2] -ge (string trim -r -c + -- $position)
    else
        test $state[2] -eq $position
    end
end

complete -c ${program} -e
complete -c ${program} -f
${lines.join('\n')}
`;
}

/** The completion script of `program` for `shell`. */
export function completionScript(program: Command, shell: Shell): string {
  const root = completionTree(program);
  switch (shell) {
    case 'bash':
      return bashScript(root);
    case 'zsh':
      return zshScript(root);
    case 'fish':
      return fishScript(root);
  }
}

/** `packctl completion SHELL`: the script of every command `program` has, on stdout. */
export function completionCommand(program: Command, shell: Shell, io: CliIo): ExitCode {
  io.stdout.write(completionScript(program, shell));
  return EXIT.ok;
}
