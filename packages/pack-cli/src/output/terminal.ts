import pc from 'picocolors';

export type Colors = ReturnType<typeof pc.createColors>;

/**
 * Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org) or TERM is
 * "dumb"; FORCE_COLOR forces it on (for CI logs that render ANSI).
 */
export function colorsFor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): Colors {
  const forced = env['FORCE_COLOR'] !== undefined && env['FORCE_COLOR'] !== '0';
  const disabled = (env['NO_COLOR'] ?? '') !== '' || env['TERM'] === 'dumb';
  return pc.createColors(forced || (!disabled && stream.isTTY));
}

export type OutputFormat = 'text' | 'json';

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
