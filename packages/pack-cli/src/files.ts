/**
 * Paths packctl builds from names it did not choose (a server's version record, a profile): the
 * name must be one plain file name, and the path, once resolved, must sit directly inside the
 * directory it was meant for. This holds whatever the name's grammar was checked against
 * elsewhere: a second, independent guard that no output escapes its directory.
 */
import path from 'node:path';
import { CliError } from './errors.js';

/**
 * `dir` joined with `name`, after checking that the result lies directly inside `dir` (no
 * separator, no "..", not empty); the path is returned as `path.join` spells it.
 *
 * @example
 * fileInside('vendor', 'cni-calico-3.27.2.zip'); // 'vendor/cni-calico-3.27.2.zip'
 * fileInside('vendor', '../escape.zip'); // throws
 */
export function fileInside(dir: string, name: string): string {
  const root = path.resolve(dir);
  const resolved = path.resolve(root, name);
  if (path.dirname(resolved) !== root || path.basename(resolved) !== name) {
    throw new CliError(`refusing to write ${JSON.stringify(name)}: it is not a file name inside ${dir}`, {
      hint: 'the name came from the server or the profile; check that they are the ones you meant',
    });
  }
  return path.join(dir, name);
}
