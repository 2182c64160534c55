/**
 * Small object requests (a put of a record, a read of one, a head, a delete) sent without the AWS
 * SDK's middleware stack: signed with the SDK's own SigV4 signer and the client's own credentials
 * (so the AWS chain, refreshes and session tokens apply as for every other call), sent over a
 * keep-alive agent of their own, answered with errors shaped as the SDK's (a `name` from the
 * answer's `<Code>`, `$metadata.httpStatusCode`), which ./errors.ts reads the same way.
 *
 * Why: on this machine the SDK spends ~1.7-2.1 ms of CPU on a small PutObject and ~1.4 ms on a
 * HeadObject (its middleware, schema serde and the garbage they leave), this ~0.5 ms; a publish
 * makes six such requests and a user create five. Used for S3-compatible services reached at a
 * configured endpoint (Ceph RGW, MinIO, ...); AWS itself, whose endpoints the SDK works out from
 * its rules, keeps the SDK. Listings, streamed reads, multipart uploads and presigning keep it too.
 *
 * Like the SDK's standard retry mode, a request is tried up to three times when the backend is
 * unavailable (a network error, 5xx, 429), with a jittered backoff; the caller's abort signal
 * (its deadline) ends it, and its reason is what the request fails with.
 */
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { SignatureV4 } from '@smithy/signature-v4';
import { isUnavailable, unquote } from './errors.js';

const ATTEMPTS = 3;
const BACKOFF_BASE_MS = 100;
/** How long a connection may take to open (the SDK client's connectionTimeout). */
const CONNECT_TIMEOUT_MS = 2_000;
/** An error answer's body is read up to this much (its `<Code>` comes first). */
const ERROR_BODY_BYTES = 64 * 1024;

/** What the signer hashes and signs: strings, byte arrays, ArrayBuffers and their views. */
type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytesOf(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** The signer's hash: node's sha256, or its HMAC with `secret`. */
class Sha256 {
  private readonly hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

/** An S3 error answer (or a lost connection's error) as the SDK would have thrown it. */
function answerError(status: number, body: string, method: string, key: string): Error {
  // Bounded and linear: a Code is a short word.
  const code = /<Code>([A-Za-z0-9.]{1,64})<\/Code>/.exec(body)?.[1];
  const name = code ?? (status === 404 ? 'NotFound' : `Http${status}`);
  const error = new Error(`${method} ${key}: ${name} (HTTP ${status})`);
  error.name = name;
  return Object.assign(error, { $metadata: { httpStatusCode: status } });
}

/** `path` without its trailing slashes (a loop: no regular expression to backtrack). */
function trimSlashes(path: string): string {
  let end = path.length;
  while (end > 0 && path[end - 1] === '/') end--;
  return path.slice(0, end);
}

/** S3's encoding of a key's segments in a path: RFC 3986, only unreserved characters as they are. */
function encodeKey(key: string): string {
  return key
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    )
    .join('/');
}

/** The S3 client's credentials (`client.config.credentials`): resolved per request, refreshed by the SDK. */
export type CredentialsProvider = () => Promise<{
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}>;

/** One request: `body` null for a GET, HEAD or DELETE. */
interface Call {
  method: string;
  key: string;
  headers: Record<string, string>;
  body: Buffer | null;
  signal: AbortSignal;
}

export interface ObjectAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface ObjectRequests {
  put(key: string, body: Buffer, headers: Record<string, string>, signal: AbortSignal): Promise<{ etag: string }>;
  /** The object's bytes and ETag; rejects with a 404-shaped error when it is missing. */
  get(key: string, signal: AbortSignal): Promise<{ body: Buffer; etag: string }>;
  head(key: string, signal: AbortSignal): Promise<{ size: number; etag: string; lastModified: Date }>;
  /** `once`: never tried again (ObjectStore's DeleteOptions). */
  delete(key: string, signal: AbortSignal, once?: boolean): Promise<void>;
  close(): void;
}

/**
 * Requests to objects of `bucket` at `endpoint` (path style, or virtual-hosted:
 * `<bucket>.<endpoint host>`). Keys are full keys (the store's prefix included).
 */
export function objectRequests(options: {
  endpoint: string;
  bucket: string;
  region: string;
  forcePathStyle: boolean;
  credentials: CredentialsProvider;
}): ObjectRequests {
  const base = new URL(options.endpoint);
  const secure = base.protocol === 'https:';
  const host = options.forcePathStyle ? base.host : `${options.bucket}.${base.host}`;
  const hostname = options.forcePathStyle ? base.hostname : `${options.bucket}.${base.hostname}`;
  const port = base.port === '' ? (secure ? 443 : 80) : Number(base.port);
  const root = `${trimSlashes(base.pathname)}${options.forcePathStyle ? `/${options.bucket}` : ''}/`;
  const agent = secure
    ? new https.Agent({ keepAlive: true, maxSockets: 64 })
    : new http.Agent({ keepAlive: true, maxSockets: 64 });
  const signer = new SignatureV4({
    service: 's3',
    region: options.region,
    credentials: options.credentials,
    sha256: Sha256,
    // The path is encoded once, here (S3 does not double-encode).
    uriEscapePath: false,
    applyChecksum: false,
  });

  async function once({ method, key, headers, body, signal }: Call): Promise<ObjectAnswer> {
    const path = root + encodeKey(key);
    const payload = body ?? Buffer.alloc(0);
    const signed = await signer.sign({
      method,
      protocol: base.protocol,
      hostname,
      port,
      path,
      query: {},
      headers: {
        ...headers,
        host,
        ...(body === null ? {} : { 'content-length': String(payload.length) }),
        'x-amz-content-sha256': createHash('sha256').update(payload).digest('hex'),
      },
    });
    signal.throwIfAborted();
    return new Promise<ObjectAnswer>((resolve, reject) => {
      const request = (secure ? https : http).request(
        {
          host: hostname,
          port,
          method,
          path,
          headers: signed.headers,
          agent,
          signal,
          ...(secure && !options.forcePathStyle ? { servername: hostname } : {}),
        },
        (response) => {
          const chunks: Buffer[] = [];
          let length = 0;
          const status = response.statusCode ?? 0;
          response.on('data', (chunk: Buffer) => {
            // An error answer is read only as far as its code needs.
            if (status >= 300 && length >= ERROR_BODY_BYTES) return;
            chunks.push(chunk);
            length += chunk.length;
          });
          response.once('end', () => {
            resolve({ status, headers: response.headers, body: Buffer.concat(chunks) });
          });
          response.once('error', reject);
        },
      );
      request.once('error', (err) => {
        reject(signal.aborted ? (signal.reason as Error) : err);
      });
      request.once('socket', (socket) => {
        if (!socket.connecting) return;
        const timer = setTimeout(() => {
          request.destroy(
            Object.assign(new Error(`no connection to ${base.host} within ${CONNECT_TIMEOUT_MS} ms`), {
              code: 'ETIMEDOUT',
            }),
          );
        }, CONNECT_TIMEOUT_MS);
        socket.once('connect', () => {
          clearTimeout(timer);
        });
        socket.once('close', () => {
          clearTimeout(timer);
        });
      });
      request.end(body ?? undefined);
    });
  }

  /** One request, tried again while the backend is unavailable; an error answer is thrown. */
  async function send(call: Call, attempts = ATTEMPTS): Promise<ObjectAnswer> {
    const { method, key, signal } = call;
    for (let attempt = 1; ; attempt++) {
      let failure: unknown;
      try {
        const answer = await once(call);
        if (answer.status < 300) return answer;
        failure = answerError(answer.status, answer.body.toString('utf8'), method, key);
      } catch (err) {
        failure = err;
      }
      if (signal.aborted) throw signal.reason;
      if (attempt >= attempts || !isUnavailable(failure)) throw failure;
      await sleep(Math.random() * BACKOFF_BASE_MS * 2 ** (attempt - 1), undefined, { signal }).catch(() => {
        throw signal.reason;
      });
    }
  }

  return {
    async put(key, body, headers, signal) {
      const answer = await send({ method: 'PUT', key, headers, body, signal });
      return { etag: unquote(answer.headers.etag ?? '') };
    },
    async get(key, signal) {
      const answer = await send({ method: 'GET', key, headers: {}, body: null, signal });
      return { body: answer.body, etag: unquote(answer.headers.etag ?? '') };
    },
    async head(key, signal) {
      const answer = await send({ method: 'HEAD', key, headers: {}, body: null, signal });
      const modified = answer.headers['last-modified'];
      return {
        size: Number(answer.headers['content-length'] ?? 0),
        etag: unquote(answer.headers.etag ?? ''),
        lastModified: modified === undefined ? new Date(0) : new Date(modified),
      };
    },
    async delete(key, signal, once = false) {
      await send({ method: 'DELETE', key, headers: {}, body: null, signal }, once ? 1 : ATTEMPTS);
    },
    close() {
      agent.destroy();
    },
  };
}
