import pc from 'picocolors';
import type { CliIo, OutputStream } from '../io.js';
import { printableJson, safe, terminalSafe } from './sanitise.js';

export type Colors = ReturnType<typeof pc.createColors>;

/**
 * Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org) or TERM is
 * "dumb"; FORCE_COLOR forces it on (for CI logs that render ANSI).
 */
export function colorsFor(stream: OutputStream, env: NodeJS.ProcessEnv): Colors {
  const forced = env['FORCE_COLOR'] !== undefined && env['FORCE_COLOR'] !== '0';
  const disabled = (env['NO_COLOR'] ?? '') !== '' || env['TERM'] === 'dumb';
  return pc.createColors(forced || (!disabled && stream.isTTY === true));
}

export type OutputFormat = 'text' | 'json';

/** `--format json`: the value as indented JSON, with no raw control character (./sanitise.ts). */
export function printJson(stdout: OutputStream, value: unknown): void {
  stdout.write(`${printableJson(JSON.stringify(value, null, 2))}\n`);
}

/**
 * One JSON Lines record (`audit export`): the value's JSON on one line, with no raw control
 * character, as {@link printJson}. Every JSON packctl prints goes through one of the two.
 */
export function printJsonLine(stdout: OutputStream, value: unknown): void {
  stdout.write(`${printableJson(JSON.stringify(value))}\n`);
}

/** Bytes for people: "812 B", "4.2 KiB", "101.3 MiB". */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * Rows as aligned columns, two spaces apart, one line each; the first row (the header) in bold when
 * colours are on. Cells usually come from a server: each is made terminal-safe on one line.
 */
export function formatTable(rawRows: readonly (readonly string[])[], colors?: Colors): string {
  const rows = rawRows.map((row) => row.map((cell) => terminalSafe(cell)));
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((row, index) => {
      const line = row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd();
      return `${index === 0 && colors ? colors.bold(line) : line}\n`;
    })
    .join('');
}

/**
 * Labelled lines, one per field, the labels aligned: `  scope        tenant`. Values come from a
 * server: each is made terminal-safe on one line.
 */
export function formatFields(fields: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...fields.map(([label]) => label.length));
  return fields.map(([label, value]) => `  ${label.padEnd(width)}  ${terminalSafe(value)}\n`).join('');
}

/** One record of a `show`, `create` or `update`: its JSON, or a heading and its fields ("-" for an empty one). */
export function printRecord(
  io: CliIo,
  format: OutputFormat,
  record: object,
  heading: string,
  fields: ReadonlyArray<readonly [string, string]>,
): void {
  if (format === 'json') {
    printJson(io.stdout, record);
    return;
  }
  io.stdout.write(`${terminalSafe(heading)}\n`);
  io.stdout.write(formatFields(fields.map(([label, value]) => [label, value || '-'] as const)));
}

/** The items of an `ls`: `{ "items": [...] }` as JSON, a table, or `empty` when there are none. */
export function printList(
  io: CliIo,
  format: OutputFormat,
  items: readonly object[],
  rows: readonly (readonly string[])[],
  empty: string,
): void {
  if (format === 'json') printJson(io.stdout, { items });
  else if (items.length === 0) io.stdout.write(`${empty}\n`);
  else io.stdout.write(formatTable(rows, colorsFor(io.stdout, io.env)));
}

/** The options of an `ls` that answers in pages. */
export interface PageOptions {
  format: OutputFormat;
  limit?: string | undefined;
  cursor?: string | undefined;
  tenant?: string | undefined;
  project?: string | undefined;
  user?: string | undefined;
  server?: string | undefined;
  config?: string | undefined;
}

/** The page an `ls` asks for: `limit` as typed (the server says what is wrong with it), `cursor`. */
export function pageQuery(options: PageOptions): { limit?: string; cursor?: string } {
  return {
    ...(options.limit === undefined ? {} : { limit: options.limit }),
    ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
  };
}

/** A word as a POSIX shell reads it back unchanged: bare when it can be, else single-quoted. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * A page of an `ls`: `{ "items": [...], "nextCursor": ... }` as JSON, else the table (or `empty`)
 * and, when another page follows, the command that shows it on stderr (stdout keeps the page):
 * `command` (e.g. `profile ls`) with the cursor and the options it was given.
 */
export function printPage(
  io: CliIo,
  command: string,
  options: PageOptions,
  page: { items: readonly object[]; nextCursor: string | null },
  rows: readonly (readonly string[])[],
  empty: string,
): void {
  if (options.format === 'json') {
    printJson(io.stdout, page);
    return;
  }
  printList(io, options.format, page.items, rows, empty);
  if (page.nextCursor === null) return;
  const flags: Array<[string, string | undefined]> = [
    ['--cursor', page.nextCursor],
    ['--limit', options.limit],
    ['--tenant', options.tenant],
    ['--project', options.project],
    ['--user', options.user],
    ['--server', options.server],
    ['--config', options.config],
  ];
  const given = flags.flatMap(([flag, value]) => (value ? [`${flag} ${shellWord(value)}`] : []));
  io.stderr.write(safe`more: packctl ${command} ${given.join(' ')}\n`);
}
