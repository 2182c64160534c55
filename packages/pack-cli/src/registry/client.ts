/**
 * packctl's HTTP client for a Packyard registry: which server (a flag, PACKCTL_SERVER, or the
 * default from `packctl login`), which credential (PACKCTL_TOKEN, a stored API key or access
 * token, refreshed shortly before it expires), TLS settings, and one translation of the server's
 * error envelope into a message, a hint naming the fix, and packctl's exit code.
 */
import { readFileSync } from 'node:fs';
import { Agent, fetch, type Dispatcher, type RequestInit, type Response } from 'undici';
import { CliError, EXIT, type ExitCode } from '../exit-codes.js';
import {
  credentialsPath,
  normaliseServer,
  readCredentials,
  writeCredentials,
  type CredentialsFile,
  type ServerAuth,
} from './credentials.js';

export interface ClientOptions {
  server?: string | undefined;
  config?: string | undefined;
  insecure?: boolean | undefined;
  caFile?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

interface ErrorEnvelope {
  error?: { code?: string; message?: string; hint?: string };
}

const REFRESH_BEFORE_MS = 60_000;

function isLoopback(url: URL): boolean {
  return ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

function exitCodeOf(status: number): ExitCode {
  if (status === 401 || status === 403) return EXIT.auth;
  if (status === 404 || status === 410) return EXIT.notFound;
  if (status === 409) return EXIT.conflict;
  if (status >= 400 && status < 500) return EXIT.usage;
  return EXIT.failure;
}

export class RegistryClient {
  private constructor(
    readonly server: string,
    private credential: string | undefined,
    private readonly dispatcher: Dispatcher | undefined,
    private readonly fromLogin: { file: string; credentials: CredentialsFile } | null,
  ) {}

  /** The client for the server the options and environment name; refreshes a token about to expire. */
  static async open(options: ClientOptions = {}): Promise<RegistryClient> {
    const env = options.env ?? process.env;
    const file = credentialsPath(options.config, env);
    const credentials = await readCredentials(file);
    const named = options.server ?? env['PACKCTL_SERVER'] ?? credentials.defaultRegistry;
    if (!named) {
      throw new CliError('no registry server given, and no default one', {
        exitCode: EXIT.usage,
        hint: 'run packctl login <server> (or pass --server, or set PACKCTL_SERVER)',
      });
    }
    const server = normaliseServer(named);
    const auth: ServerAuth = credentials.auths[server] ?? {};
    const dispatcher = RegistryClient.dispatcherFor(server, {
      insecure: options.insecure ?? auth.insecure ?? false,
      caFile: options.caFile ?? auth.caFile,
    });
    const token = env['PACKCTL_TOKEN'];
    const client = new RegistryClient(
      server,
      token ?? auth.apiKey ?? auth.token,
      dispatcher,
      token === undefined && auth.token !== undefined && auth.apiKey === undefined ? { file, credentials } : null,
    );
    if (client.fromLogin) await client.refreshIfDue(auth);
    return client;
  }

  /** A client for `server` with exactly `credential` (none: anonymous), the credentials file left aside (login). */
  static connect(server: string, tls: { insecure: boolean; caFile?: string | undefined }, credential?: string) {
    return new RegistryClient(server, credential, RegistryClient.dispatcherFor(server, tls), null);
  }

  /** TLS and plain-HTTP rules: plain HTTP only to loopback unless insecure. */
  static dispatcherFor(
    server: string,
    tls: { insecure: boolean; caFile?: string | undefined },
  ): Dispatcher | undefined {
    const url = new URL(server);
    if (url.protocol === 'http:' && !isLoopback(url) && !tls.insecure) {
      throw new CliError(`${server} is plain HTTP: credentials and packs would cross the network unencrypted`, {
        exitCode: EXIT.usage,
        hint: 'use https, or pass --insecure if you accept that',
      });
    }
    if (url.protocol !== 'https:') return undefined;
    if (tls.caFile) return new Agent({ connect: { ca: readFileSync(tls.caFile) } });
    if (tls.insecure) return new Agent({ connect: { rejectUnauthorized: false } });
    return undefined;
  }

  private async refreshIfDue(auth: ServerAuth): Promise<void> {
    const expiresAt = auth.expiresAt ? Date.parse(auth.expiresAt) : NaN;
    if (!Number.isFinite(expiresAt)) return;
    if (expiresAt <= Date.now()) {
      // Expired: go on without it; anything that needs it fails with a hint to log in again.
      this.credential = undefined;
      return;
    }
    if (expiresAt - Date.now() > REFRESH_BEFORE_MS || !this.fromLogin) return;
    const res = await this.send('POST', '/v1/auth/refresh');
    if (!res.ok) return;
    const fresh = (await res.json()) as { token: string; expiresAt: string };
    this.credential = fresh.token;
    const { file, credentials } = this.fromLogin;
    credentials.auths[this.server] = { ...auth, token: fresh.token, expiresAt: fresh.expiresAt };
    await writeCredentials(file, credentials);
  }

  get authenticated(): boolean {
    return this.credential !== undefined;
  }

  /** Sends a request; network failures become a CliError naming the server. */
  async send(
    method: string,
    path: string,
    init: { body?: RequestInit['body']; headers?: Record<string, string>; duplex?: 'half' } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.credential) headers['Authorization'] = `Bearer ${this.credential}`;
    try {
      return await fetch(`${this.server}${path}`, {
        method,
        headers,
        ...(init.body === undefined ? {} : { body: init.body, duplex: 'half' }),
        ...(this.dispatcher ? { dispatcher: this.dispatcher } : {}),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`cannot reach ${this.server}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, {
        hint: 'check the address and that the registry is running (packctl registry ls shows your servers)',
      });
    }
  }

  /** Throws the server's error for a response that is not 2xx, with packctl's exit code. */
  async check(res: Response, what: string): Promise<Response> {
    if (res.ok) return res;
    let envelope: ErrorEnvelope = {};
    try {
      envelope = (await res.json()) as ErrorEnvelope;
    } catch {
      // Not our envelope: a proxy's page, say.
    }
    const code = envelope.error?.code;
    const message = envelope.error?.message ?? `${res.status} ${res.statusText}`;
    let hint = envelope.error?.hint;
    if (res.status === 401) {
      hint = this.credential
        ? `your credentials for ${this.server} were refused or expired: run packctl login ${this.server}`
        : `run packctl login ${this.server}`;
    }
    throw new CliError(`${what}: ${message}${code ? ` (${code})` : ''}`, {
      exitCode: exitCodeOf(res.status),
      ...(hint ? { hint } : {}),
    });
  }

  /** A JSON request whose answer must be 2xx. */
  async json<T>(method: string, path: string, what: string, body?: unknown): Promise<T> {
    const res = await this.send(
      method,
      path,
      body === undefined ? {} : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } },
    );
    await this.check(res, what);
    return (await res.json()) as T;
  }
}
