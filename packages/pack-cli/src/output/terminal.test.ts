import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellWord } from './terminal.js';

describe('shellWord', () => {
  it('gives back every word unchanged through a POSIX shell, bare only when it can be', () => {
    const words = [
      'globex-ci',
      'alice@example.com',
      'registry publisher',
      "o'brien",
      'a;rm -rf x',
      '$(id)',
      '`id`',
      '*',
    ];
    for (const word of words) {
      expect(execFileSync('sh', ['-c', `printf %s ${shellWord(word)}`], { encoding: 'utf8' })).toBe(word);
    }
    expect(shellWord('globex-ci')).toBe('globex-ci');
    expect(shellWord('registry publisher')).toBe("'registry publisher'");
  });
});
