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
import { CliError, EXIT } from '../errors.js';

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

export function credentialsPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(flag ?? env['PACKCTL_CONFIG'] ?? path.join(homedir(), '.packctl', 'config.json'));
}

/** `text` without its trailing slashes, in one linear pass. */
function withoutTrailingSlashes(text: string): string {
  let end = text.length;
  while (end > 0 && text[end - 1] === '/') end--;
  return text.slice(0, end);
}

/**
 * A server URL as the credentials file keys it: scheme, host and port, and a path prefix if any,
 * no trailing slash. Credentials are looked up by exactly this key, so anything that would make
 * two spellings of one server differ, or one spelling name two servers, is refused: user info
 * ("user:pass@"), a query or a fragment.
 */
export function normaliseServer(server: string): string {
  const withScheme = /^[a-z]+:\/\//i.test(server) ? server : `https://${server}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    // Said without the user info ("user:password@") it may hold.
    const scheme = withScheme.indexOf('://') + 3;
    const at = withScheme.lastIndexOf('@');
    const shown = at > scheme ? `${withScheme.slice(0, scheme)}***@${withScheme.slice(at + 1)}` : server;
    throw new CliError(`${shown} is not a server address`, {
      exitCode: EXIT.usage,
      hint: 'give it as https://host[:port] (or host:port)',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`${server}: only http and https servers are supported`, { exitCode: EXIT.usage });
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new CliError(`${url.host}: give the server as scheme://host[:port][/path], without user, query or fragment`, {
      exitCode: EXIT.usage,
      hint: 'pass the username with packctl login -u; the password is asked for, never put in the address',
    });
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
