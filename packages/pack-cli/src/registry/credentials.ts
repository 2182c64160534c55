/**
 * packctl's credentials file, shaped like Docker's config.json:
 *
 *   { "auths": { "https://packs.example.com": { "token": "...", "expiresAt": "...", "username": "..." } },
 *     "defaultRegistry": "https://packs.example.com" }
 *
 * It lives at `~/.packctl/config.json` (or `--config`, or PACKCTL_CONFIG), is written whole through
 * a temporary file and a rename (files.ts replaceFile), and is readable by its owner only (mode
 * 0600): it holds tokens and API keys.
 */
import { makeDir } from '@packyard/pack-core/make-dir';
import { readUserFile, replaceFile } from '../files.js';
import { homedir } from 'node:os';
import path from 'node:path';
import { CliError, EXIT, usageError } from '../errors.js';

export interface ServerAuth {
  /** An access token from POST /v1/auth/login, with its expiry. */
  token?: string;
  expiresAt?: string;
  username?: string;
  /** An API key (CI), used instead of a token. */
  apiKey?: string;
  /** Plain HTTP to a non-loopback host, or TLS without verifying the certificate. */
  insecure?: boolean;
  /** A CA bundle (PEM) to verify the server's certificate with. */
  caFile?: string;
}

export interface CredentialsFile {
  auths: Record<string, ServerAuth>;
  defaultRegistry?: string;
}

/**
 * The credentials file: `--config`, else PACKCTL_CONFIG, else `~/.packctl/config.json`. The home
 * directory must be an absolute path: an empty HOME made `homedir()` "", and the tokens went to
 * `./.packctl/config.json`, wherever packctl ran (a pack directory, to be built and published).
 * A relative --config or PACKCTL_CONFIG is the user's own choice, resolved as given; an empty one
 * is refused.
 */
export function credentialsPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag !== undefined) {
    if (flag === '') throw usageError('--config is empty', 'give the path of the packctl configuration file');
    return path.resolve(flag);
  }
  const configured = env['PACKCTL_CONFIG'];
  if (configured !== undefined) {
    if (configured === '') {
      throw usageError(
        'PACKCTL_CONFIG is empty',
        'set it to the path of the configuration file, or unset it (~/.packctl/config.json)',
      );
    }
    return path.resolve(configured);
  }
  // HOME as this run sees it (a test's, a host program's), the account's when it is unset.
  const home = process.platform === 'win32' ? homedir() : (env['HOME'] ?? homedir());
  if (!path.isAbsolute(home)) {
    throw usageError(
      `the home directory (HOME=${JSON.stringify(home)}) is not an absolute path: packctl keeps its credentials there`,
      'set HOME, or name the configuration file with --config or PACKCTL_CONFIG (an absolute path)',
    );
  }
  return path.join(home, '.packctl', 'config.json');
}

/** `text` without its trailing slashes, in one linear pass. */
function withoutTrailingSlashes(text: string): string {
  let end = text.length;
  while (end > 0 && text[end - 1] === '/') end--;
  return text.slice(0, end);
}

/**
 * A server address for a message: scheme, host and port, and the path, never its user info
 * ("user:password@"), query or fragment, which may hold a secret. The one way packctl prints an
 * address it did not build itself (a flag, PACKCTL_SERVER, a key of a hand-edited credentials
 * file): a refused address is said without what made it unsafe to say.
 *
 * @example
 * shownServer('ftp://alice:s3cret@packs.example.com/x?t=1'); // 'ftp://packs.example.com/x'
 */
export function shownServer(server: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(server) ? server : `https://${server}`;
  try {
    const url = new URL(withScheme);
    // Only for schemes with an authority ("ftp:", "http:"); "mailto:x@y" has no host to show. A
    // path holding an "@" may be user info a parser read otherwise: left out.
    const path = url.pathname.includes('@') ? '' : withoutTrailingSlashes(url.pathname);
    if (url.host !== '') return `${url.protocol}//${url.host}${path}`;
  } catch {
    // Not a URL: shown by hand below.
  }
  // What follows the scheme, without query or fragment, from after its last "@" (any "/" in a
  // password included).
  const start = withScheme.indexOf('://') + 3;
  const after = withScheme.slice(start);
  const end = after.search(/[?#]/);
  const rest = end < 0 ? after : after.slice(0, end);
  return `${withScheme.slice(0, start)}${rest.slice(rest.lastIndexOf('@') + 1)}`;
}

/**
 * A server URL as the credentials file keys it: scheme, host and port, and a path prefix if any,
 * no trailing slash. Credentials are looked up by exactly this key, so anything that would make
 * two spellings of one server differ, or one spelling name two servers, is refused: user info
 * ("user:pass@"), a query or a fragment. Refusals name the server by {@link shownServer}.
 */
export function normaliseServer(server: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(server) ? server : `https://${server}`;
  const shown = shownServer(server);
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new CliError(`${shown} is not a server address`, {
      exitCode: EXIT.usage,
      hint: 'give it as https://host[:port] (or host:port)',
    });
  }
  // User info first: whatever else is wrong, the message must not be the one that shows it.
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new CliError(`${shown}: give the server as scheme://host[:port][/path], without user, query or fragment`, {
      exitCode: EXIT.usage,
      hint: 'pass the username with packctl login -u; the password is asked for, never put in the address',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`${shown}: only http and https servers are supported`, { exitCode: EXIT.usage });
  }
  return `${url.protocol}//${url.host}${withoutTrailingSlashes(url.pathname)}`;
}

/** Servers, tokens and API keys take a few hundred bytes each. */
const CREDENTIALS_MAX_BYTES = 1024 * 1024;

// eslint-disable-next-line @typescript-eslint/require-await -- async: a throw becomes a rejection
export async function readCredentials(file: string): Promise<CredentialsFile> {
  const text = readUserFile(file, CREDENTIALS_MAX_BYTES, 'the packctl configuration file (or leave it out)');
  if (text === null) return { auths: {} };
  try {
    const parsed = JSON.parse(text) as Partial<CredentialsFile>;
    return { ...parsed, auths: parsed.auths ?? {} };
  } catch {
    throw new CliError(`${file} is not valid JSON`, {
      hint: 'fix or remove it, then run packctl login again',
    });
  }
}

/**
 * Writes the credentials file whole, owner-only (0600), in a directory made owner-only (0700) if
 * missing, through the one writer of packctl ({@link replaceFile}): a failure (a full disk) leaves
 * no temporary copy of the tokens beside it.
 */
export async function writeCredentials(file: string, credentials: CredentialsFile): Promise<void> {
  await makeDir(path.dirname(file), 0o700);
  await replaceFile(file, `${JSON.stringify(credentials, null, 2)}\n`, 0o600);
}
