import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileInside } from './files.js';

describe('fileInside', () => {
  it('joins a plain file name to its directory', () => {
    expect(fileInside('vendor', 'cni-calico-3.27.2.zip')).toBe(path.join('vendor', 'cni-calico-3.27.2.zip'));
    expect(fileInside('/tmp/out/', 'a.lock')).toBe('/tmp/out/a.lock');
  });

  it('refuses anything that is not one file name directly inside the directory', () => {
    for (const name of [
      '../x.zip',
      '../../escape-name-1.0.0.zip',
      'a/b.zip',
      '/etc/passwd',
      '..',
      '.',
      '',
      'a/..',
      'x/../../y',
    ]) {
      expect(() => fileInside('vendor', name), name).toThrow('is not a file name inside vendor');
    }
  });
});
