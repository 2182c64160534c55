import { describe, expect, it } from 'vitest';
import { printableJson, safe, terminalSafe } from './sanitise.js';

/** Every character a terminal may act on, or that reorders text, that a server could send. */
const HOSTILE = [
  '\x1b[2J', // clear screen (C0 ESC)
  '\x1b]0;owned\x07', // window title (OSC ... BEL)
  '\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\', // hyperlink
  '\r', // overwrite the line
  '\b', // backspace
  '\x7f', // DEL
  '\x9b31m', // C1 CSI
  '\x85', // C1 next line
  '\u202e', // right-to-left override
  '\u2066\u2069', // isolates
  '\u200f', // right-to-left mark
  '\u2028', // line separator
];

function hasControl(text: string): boolean {
  return /[\p{Cc}\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]/u.test(text);
}

describe('terminalSafe', () => {
  it('escapes C0, DEL, C1 and bidi controls visibly', () => {
    for (const hostile of HOSTILE) {
      const shown = terminalSafe(`before${hostile}after`);
      expect(hasControl(shown), JSON.stringify(shown)).toBe(false);
      expect(shown.startsWith('before')).toBe(true);
      expect(shown.endsWith('after')).toBe(true);
    }
    expect(terminalSafe('a\x1b[31mb')).toBe('a\\x1b[31mb');
    expect(terminalSafe('evil\u202etxt.exe')).toBe('evil\\u202etxt.exe');
    expect(terminalSafe('\x9b')).toBe('\\x9b');
  });

  it('leaves ordinary text alone, including non-ASCII letters and emoji', () => {
    const text = 'cni-calico 3.27.2 — Prométhée ✔ 日本語 🚀';
    expect(terminalSafe(text)).toBe(text);
  });

  it('escapes newlines and tabs on one line, keeps them with multiline, never keeps a carriage return', () => {
    expect(terminalSafe('a\nb\tc')).toBe('a\\x0ab\\x09c');
    expect(terminalSafe('a\nb\tc', { multiline: true })).toBe('a\nb\tc');
    expect(terminalSafe('a\r\nb', { multiline: true })).toBe('a\\x0d\nb');
  });

  it('is linear on long hostile input', () => {
    const long = '\x1b'.repeat(1_000_000);
    const started = performance.now();
    expect(terminalSafe(long)).toHaveLength(4_000_000);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('safe', () => {
  it('makes substituted values safe and keeps the literal parts', () => {
    const name = 'evil\x1b[2J';
    expect(safe`pulled ${name}@${'1.0.0\n'} (${3} files)\n`).toBe('pulled evil\\x1b[2J@1.0.0\\x0a (3 files)\n');
  });
});

describe('printableJson', () => {
  it('escapes what JSON.stringify leaves raw (DEL, C1, bidi), and the JSON means the same', () => {
    const value = { name: `x${HOSTILE.join('')}y`, list: ['\u202e', '\x9b'] };
    const raw = JSON.stringify(value, null, 2);
    expect(hasControl(raw.replace(/\n/g, ''))).toBe(true);
    const shown = printableJson(raw);
    expect(hasControl(shown.replace(/\n/g, ''))).toBe(false);
    expect(JSON.parse(shown)).toEqual(value);
  });
});
