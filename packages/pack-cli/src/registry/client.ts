/**
 * packctl's HTTP client for a Packyard registry: which server (a flag, PACKCTL_SERVER, or the
 * default from `packctl login`), which credential (PACKCTL_TOKEN, a stored API key or access
 * token, refreshed shortly before it expires), TLS settings, and one translation of the server's
 * error envelope into a message, a hint naming the fix, and packctl's exit code.
 *
 * Credentials go to the server they belong to and nowhere else: redirects are never followed
 * blindly (fetch's default redirect mode would resend the Authorization header and a password body
 * to whatever origin a Location names). {@link RegistryClient.send} follows a redirect itself
 * within the server's origin; an archive download may also be redirected to another origin (a
 * presigned S3 URL), which is followed without credentials; any other cross-origin redirect is
 * refused. Answers are read through ./bounded-body.ts, never whole.
 */
import { rootCertificates } from 'node:tls';
import { Agent, fetch, type Dispatcher, type RequestInit, type Response } from 'undici';
import { RegistryApiClient, type ApiAnswer, type ApiRequest } from '@packyard/registry-api';
import { CliError, EXIT, type ExitCode } from '../errors.js';
import { readRequiredUserFile } from '../files.js';
import { checkIdentity, checkIssuedToken, isSendableToken, refusedAnswer } from './answers.js';
import { discard, MAX_ERROR_BYTES, readJson, SLOWEST } from './bounded-body.js';
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
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Redirects followed for one request at most (fetch allows 20; a registry needs one or two). */
const MAX_REDIRECTS = 5;

/**
 * How long a server has to answer a request, status and headers, from the moment packctl starts
 * sending it (redirects included): past it the request is aborted. The HTTP client's own header
 * timeout is not enough: it starts again on every interim answer (103 Early Hints), so a server
 * sending one a minute would hold packctl for ever. Bodies are bounded by the rate floor and
 * deadlines of ./bounded-body.ts once the headers are in; an upload gives its own deadline
 * ({@link SendInit.deadlineMs}). Mutable for tests only.
 */
export const DEADLINES = { answerMs: 60_000 };

interface TlsSettings {
  insecure: boolean;
  caFile?: string | undefined;
}

export interface SendInit {
  body?: RequestInit['body'];
  headers?: Record<string, string>;
  /**
   * May the request be redirected to another origin? Only for archive downloads (a presigned
   * URL of the bucket), and then without credentials.
   */
  otherOrigins?: boolean;
  signal?: AbortSignal;
  /**
   * How long the whole exchange up to the answer's headers may take, redirects and the upload of
   * `body` included (default {@link DEADLINES}.answerMs): an upload passes its transfer deadline.
   */
  deadlineMs?: number;
}

/**
 * The HTTP client's own timeouts, not left to its defaults (300 s): the pause before the headers,
 * and between two chunks of a body (the rate floor of ./bounded-body.ts asks more than that).
 */
const AGENT_TIMEOUTS = { headersTimeout: DEADLINES.answerMs, bodyTimeout: SLOWEST.windowMs };

function isLoopback(url: URL): boolean {
  return ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

/** A CA bundle of PEM certificates is a few hundred kilobytes at most. */
const CA_FILE_MAX_BYTES = 4 * 1024 * 1024;

/** The CA file named by --ca-file (or stored at login), as PEM text. */
function readCaFile(file: string): string {
  return readRequiredUserFile(file, CA_FILE_MAX_BYTES, 'a PEM file of CA certificates');
}

/**
 * One segment of a URL path. encodeURIComponent leaves "." and ".." as they are, and URL parsing
 * then resolves them: `--registry ..` would reach another endpoint. They are refused.
 */
export function pathSegment(value: string, what: string): string {
  if (value === '' || value === '.' || value === '..') {
    throw new CliError(`"${value}" is not a valid ${what}`, {
      exitCode: EXIT.usage,
      hint: `name the ${what}: lowercase letters, digits and hyphens`,
    });
  }
  return encodeURIComponent(value);
}

function exitCodeOf(status: number): ExitCode {
  if (status === 401 || status === 403) return EXIT.auth;
  if (status === 404 || status === 410) return EXIT.notFound;
  if (status === 409) return EXIT.conflict;
  if (status >= 400 && status < 500) return EXIT.usage;
  return EXIT.failure;
}

export class RegistryClient {
  /** Scheme, host and port of the server: credentials go to this origin only. */
  private readonly origin: string;
  private readonly dispatcher: Dispatcher;
  /**
   * The registry's API (@packyard/registry-api) over this client: every URL is built there and
   * every answer checked against the contract's schema; this class is its transport.
   */
  readonly api = new RegistryApiClient(
    { request: (request) => this.request(request) },
    {
      segment: pathSegment,
      refuse: (what, problems) => refusedAnswer(what, `does not match the API (${problems.slice(0, 3).join('; ')})`),
    },
  );

  private constructor(
    readonly server: string,
    private credential: string | undefined,
    private readonly tls: TlsSettings,
    private readonly fromLogin: { file: string; credentials: CredentialsFile } | null,
  ) {
    this.origin = new URL(server).origin;
    this.dispatcher = RegistryClient.dispatcherFor(server, tls);
    // Checked before any request: an invalid header value would otherwise come back quoted in
    // fetch's error message, the secret with it, on stderr and in JSON output.
    if (credential !== undefined && !isSendableToken(credential)) {
      throw new CliError('the token or API key (PACKCTL_TOKEN, --api-key or the credentials file) cannot be sent', {
        exitCode: EXIT.usage,
        hint: 'it must be 1-4096 visible ASCII characters, without spaces or line breaks: copy it again',
      });
    }
  }

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
    const auth: ServerAuth = Object.hasOwn(credentials.auths, server) ? (credentials.auths[server] ?? {}) : {};
    const token = env['PACKCTL_TOKEN'];
    const client = new RegistryClient(
      server,
      token ?? auth.apiKey ?? auth.token,
      { insecure: options.insecure ?? auth.insecure ?? false, caFile: options.caFile ?? auth.caFile },
      token === undefined && auth.token !== undefined && auth.apiKey === undefined ? { file, credentials } : null,
    );
    if (client.fromLogin) await client.refreshIfDue(auth);
    return client;
  }

  /** A client for `server` with exactly `credential` (none: anonymous), the credentials file left aside (login). */
  static connect(server: string, tls: TlsSettings, credential?: string) {
    return new RegistryClient(server, credential, tls, null);
  }

  /** TLS and plain-HTTP rules: plain HTTP only to loopback unless insecure. */
  static dispatcherFor(server: string, tls: TlsSettings): Dispatcher {
    const url = new URL(server);
    if (url.protocol === 'http:' && !isLoopback(url) && !tls.insecure) {
      throw new CliError(`${server} is plain HTTP: credentials and packs would cross the network unencrypted`, {
        exitCode: EXIT.usage,
        hint: 'use https, or pass --insecure if you accept that',
      });
    }
    if (url.protocol !== 'https:') return new Agent(AGENT_TIMEOUTS);
    if (tls.caFile) return new Agent({ ...AGENT_TIMEOUTS, connect: { ca: readCaFile(tls.caFile) } });
    if (tls.insecure) return new Agent({ ...AGENT_TIMEOUTS, connect: { rejectUnauthorized: false } });
    return new Agent(AGENT_TIMEOUTS);
  }

  /**
   * The dispatcher for another origin a download was redirected to: https verified against the
   * system's CAs and the server's CA file (a bucket of a private site), or plain HTTP on loopback.
   * The server's --insecure is not carried over: it was accepted for that server only.
   */
  private dispatcherElsewhere(url: URL, what: string): Dispatcher {
    if (url.protocol === 'http:' && isLoopback(url)) return new Agent(AGENT_TIMEOUTS);
    if (url.protocol !== 'https:') {
      throw new CliError(`${what}: ${this.server} redirected to ${url.origin}, which is not https: refused`, {
        hint: 'ask the registry operator to serve downloads over https',
      });
    }
    if (!this.tls.caFile) return new Agent(AGENT_TIMEOUTS);
    return new Agent({ ...AGENT_TIMEOUTS, connect: { ca: [...rootCertificates, readCaFile(this.tls.caFile)] } });
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
    const what = `refreshing your token at ${this.server}`;
    const token = await this.api.refreshIfAllowed(what);
    if (token === null) return;
    const fresh = checkIssuedToken(token, what);
    this.credential = fresh.token;
    const { file, credentials } = this.fromLogin;
    credentials.auths[this.server] = { ...auth, token: fresh.token, expiresAt: fresh.expiresAt };
    await writeCredentials(file, credentials);
  }

  private caller: Promise<{ kind: string; username: string; tenant: string | null } | null> | undefined;

  /**
   * Who the server sees the caller as (GET /v1/auth/me, asked once per client): their username and
   * tenant (null for the system operator); null when no credential is sent. Commands that work in
   * "your own tenant" by default take it from here.
   */
  whoAmI(): Promise<{ kind: string; username: string; tenant: string | null } | null> {
    const what = `asking ${this.server} who you are`;
    this.caller ??= this.authenticated
      ? this.api.me(what).then((me) => checkIdentity(me, what))
      : Promise.resolve(null);
    return this.caller;
  }

  get authenticated(): boolean {
    return this.credential !== undefined;
  }

  /**
   * Sends a request; network failures become a CliError naming the server. Redirects are followed
   * here, not by fetch: within the server's origin with the credential; to another origin only
   * with `otherOrigins` (downloads), without it; a body is resent only for a 307 or 308 within the
   * origin, and only a string body (a stream cannot be replayed).
   */
  async send(method: string, path: string, init: SendInit = {}): Promise<Response> {
    const deadlineMs = init.deadlineMs ?? DEADLINES.answerMs;
    const deadline = new AbortController();
    const timer = setTimeout(() => {
      deadline.abort();
    }, deadlineMs);
    const signal = init.signal ? AbortSignal.any([init.signal, deadline.signal]) : deadline.signal;
    try {
      return await this.sendWithin(method, path, init, signal);
    } catch (err) {
      if (!deadline.signal.aborted || init.signal?.aborted) throw err;
      throw new CliError(
        `${this.server} did not answer ${method} ${path} within ${deadlineMs < 1000 ? `${deadlineMs} ms` : `${Math.round(deadlineMs / 1000)} s`}: given up`,
        { hint: 'try again; if it persists, check the network and the registry (or the proxy in front of it)' },
      );
    } finally {
      // Once the headers are in, the body is bounded by its reader (./bounded-body.ts).
      clearTimeout(timer);
    }
  }

  private async sendWithin(method: string, path: string, init: SendInit, signal: AbortSignal): Promise<Response> {
    let url = new URL(`${this.server}${path}`);
    const body = init.body;
    let elsewhere = false;
    for (let redirects = 0; ; redirects++) {
      elsewhere ||= url.origin !== this.origin;
      const headers: Record<string, string> = { ...init.headers };
      if (this.credential && !elsewhere) headers['Authorization'] = `Bearer ${this.credential}`;
      const dispatcher = elsewhere ? this.dispatcherElsewhere(url, `${method} ${path}`) : this.dispatcher;
      const res = await this.fetchOnce(url, {
        method,
        headers,
        redirect: 'manual',
        ...(body === undefined || body === null ? {} : { body, duplex: 'half' }),
        dispatcher,
        signal,
      });
      if (!REDIRECT_STATUSES.has(res.status)) return res;
      await discard(res);
      const next = this.redirectTarget(res, url, { method, path, redirects });
      if (next.origin !== this.origin && init.otherOrigins !== true) {
        const carried =
          body !== undefined || this.credential !== undefined ? ', with your credentials or password,' : '';
        throw new CliError(
          `${this.server} redirected ${method} ${path} to ${next.origin}, another server: packctl will not send that request${carried} there`,
          {
            hint: `if the registry has moved, log in at its new address (packctl login <new address>); otherwise check ${this.server}`,
          },
        );
      }
      if (body !== undefined && body !== null) {
        if (typeof body !== 'string' || (res.status !== 307 && res.status !== 308) || next.origin !== this.origin) {
          throw new CliError(`${this.server} answered ${method} ${path} with a ${res.status} redirect: not followed`, {
            hint: `give the registry's own address (packctl server ls), not one that redirects`,
          });
        }
      } else if (res.status === 303 && method !== 'HEAD') {
        method = 'GET';
      }
      url = next;
    }
  }

  private redirectTarget(res: Response, from: URL, request: { method: string; path: string; redirects: number }): URL {
    const location = res.headers.get('location');
    if (request.redirects >= MAX_REDIRECTS) {
      throw new CliError(
        `${this.server} redirected ${request.method} ${request.path} more than ${MAX_REDIRECTS} times`,
        {
          hint: 'check the server address and the registry behind it',
        },
      );
    }
    let next: URL | null = null;
    try {
      next = location === null ? null : new URL(location, from);
    } catch {
      next = null;
    }
    if (next === null || (next.protocol !== 'https:' && next.protocol !== 'http:')) {
      throw new CliError(
        `${this.server} answered ${request.method} ${request.path} with a ${res.status} redirect to nowhere usable`,
        {
          hint: 'check the server address and the registry behind it',
        },
      );
    }
    return next;
  }

  private async fetchOnce(url: URL, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, init);
    } catch (err) {
      if (init.signal?.aborted) throw err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const where = url.origin === this.origin ? this.server : url.origin;
      const reason = cause?.code ?? cause?.message ?? (err as Error).message;
      const said = this.credential ? reason.split(this.credential).join('[credential]') : reason;
      throw new CliError(`cannot reach ${where}: ${said}`, {
        hint: 'check the address and that the registry is running (packctl server ls shows your servers)',
      });
    }
  }

  /** Throws the server's error for a response that is not 2xx, with packctl's exit code. */
  async check(res: Response, what: string): Promise<Response> {
    if (res.ok) return res;
    let envelope: ErrorEnvelope = {};
    try {
      const parsed = await readJson(res, { what, maxBytes: MAX_ERROR_BYTES });
      if (typeof parsed === 'object' && parsed !== null) envelope = parsed;
    } catch {
      // Not our envelope (a proxy's page, say), or too large to be one: the status says enough.
      await discard(res);
    }
    const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value.slice(0, 2000) : undefined);
    const code = text(envelope.error?.code)?.slice(0, 100);
    const message = text(envelope.error?.message) ?? `${res.status} ${res.statusText.slice(0, 200)}`;
    let hint = text(envelope.error?.hint);
    if (res.status === 401) {
      hint = this.credential
        ? `your credentials for ${this.server} were refused or expired: run packctl login ${this.server}`
        : `run packctl login ${this.server}`;
    }
    throw new CliError(`${what}: ${message}${code ? ` (${code})` : ''}`, {
      exitCode: exitCodeOf(res.status),
      ...(hint ? { hint } : {}),
      ...(code && /^[A-Z][A-Z0-9_]*$/.test(code) ? { code } : {}),
    });
  }

  /** The JSON answer of a 2xx response, read with the answer cap. */
  async answer(res: Response, what: string): Promise<unknown> {
    await this.check(res, what);
    return readJson(res, { what });
  }

  /**
   * A JSON request whose answer must be 2xx: the transport under {@link api}, which checks the
   * answer's shape against the contract.
   */
  async json(method: string, path: string, what: string, body?: unknown): Promise<unknown> {
    const res = await this.send(
      method,
      path,
      body === undefined ? {} : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } },
    );
    return this.answer(res, what);
  }

  /** The transport of {@link api}: like {@link json}, but an expected error status is the caller's to handle. */
  private async request(request: ApiRequest): Promise<ApiAnswer> {
    const { body } = request;
    const res = await this.send(
      request.method,
      request.path,
      body === undefined ? {} : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } },
    );
    const expected = request.expect === 'errors' ? !res.ok : request.expect?.includes(res.status) === true;
    if (expected || res.status === 204) {
      await discard(res);
      return { status: res.status, body: undefined };
    }
    return { status: res.status, body: await this.answer(res, request.what) };
  }
}
