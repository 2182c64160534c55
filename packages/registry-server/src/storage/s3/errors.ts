/**
 * What an S3 error means for the registry: the backend is unavailable (retry later: 503), the
 * deployment is broken (a missing bucket, refused credentials), the object is missing, a
 * condition failed; and, at start-up, which setting to fix. S3 look-alikes spell these
 * differently (HTTP status, error name, Node's network error code), so every test looks at all.
 */

const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

export function httpStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

export function errorName(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { name, code } = err as { name?: unknown; code?: unknown };
  if (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) return code;
  return typeof name === 'string' ? name : undefined;
}

function describeError(err: unknown): string {
  const status = httpStatus(err);
  const message = err instanceof Error ? err.message : String(err);
  const name = errorName(err);
  // HEAD errors have no body, so the SDK's message is often just "UnknownError".
  return [name && !message.includes(name) ? `${name}:` : '', message, status ? `(HTTP ${status})` : '']
    .filter(Boolean)
    .join(' ');
}

/** Errors worth a retry later: the backend cannot be reached, timed out or failed (5xx, throttling). */
export function isUnavailable(err: unknown): boolean {
  const status = httpStatus(err);
  if (status !== undefined) return status >= 500 || status === 429;
  const name = errorName(err);
  return (
    name !== undefined &&
    (NETWORK_ERROR_CODES.has(name) ||
      ['TimeoutError', 'AbortError', 'RequestTimeout', 'SlowDown', 'StorageTimeoutError'].includes(name))
  );
}

/**
 * Errors of the deployment rather than of the request: the bucket is gone, the credentials are
 * missing or were revoked. The client can only retry later, like for an unreachable backend.
 */
export function isBackendFault(err: unknown): boolean {
  const name = errorName(err);
  return (
    isUnavailable(err) ||
    httpStatus(err) === 403 ||
    (name !== undefined &&
      [
        'NoSuchBucket',
        'AccessDenied',
        'InvalidAccessKeyId',
        'SignatureDoesNotMatch',
        'CredentialsProviderError',
      ].includes(name))
  );
}

export function isNotFound(err: unknown): boolean {
  const name = errorName(err);
  // A missing bucket is a broken deployment, not a missing object.
  return name !== 'NoSuchBucket' && (httpStatus(err) === 404 || name === 'NoSuchKey' || name === 'NotFound');
}

export function isConditionFailure(err: unknown): boolean {
  const name = errorName(err);
  // 409 ConditionalRequestConflict: AWS lost a race between two conditional writes of one key.
  return httpStatus(err) === 412 || name === 'PreconditionFailed' || name === 'ConditionalRequestConflict';
}

export function isNotImplemented(err: unknown): boolean {
  return httpStatus(err) === 501 || errorName(err) === 'NotImplemented';
}

export function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/^"(.*)"$/, '$1');
}

/** Endpoint for messages and logs: credentials in a URL's user-info part are dropped. */
export function endpointText(endpoint: string | undefined, region: string): string {
  if (endpoint === undefined) return `AWS S3 (${region})`;
  try {
    const url = new URL(endpoint);
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return endpoint;
  }
}

export function startupError(err: unknown, where: string): Error {
  const status = httpStatus(err);
  const name = errorName(err);
  const reason = describeError(err);
  let message: string;
  if (isUnavailable(err)) {
    message = `cannot reach ${where} (${reason}): check the endpoint setting and that the service is running`;
  } else if (name === 'CredentialsProviderError') {
    message = `no S3 credentials for ${where} (${reason}): set accessKeyId and secretAccessKey, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or an AWS profile`;
  } else if (status === 403 || name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch') {
    message = `${where} refused the credentials (${reason}): check accessKeyId/secretAccessKey (or the AWS_* environment and profile) and that they may read and write the bucket`;
  } else if (status === 301 || name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed') {
    message = `${where} lives in another region (${reason}): set the region setting to the bucket's region`;
  } else {
    message = `cannot use ${where}: ${reason}`;
  }
  return new Error(message, { cause: err });
}
