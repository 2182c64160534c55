/**
 * The start-up check of an S3 backend: the bucket exists (or is created, for development), and
 * how the backend handles conditional writes, probed on a scratch key (S3 look-alikes differ).
 * Any failure names the setting to fix.
 */
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type BucketLocationConstraint,
  type S3Client,
} from '@aws-sdk/client-s3';
import { probeKey } from '../layout.js';
import { tempName } from '../temp-files.js';
import { errorName, httpStatus, isConditionFailure, isNotImplemented, startupError, unquote } from './errors.js';
import type { Bounded } from './transfer.js';

/**
 * How a backend handles conditional PutObject. `ifMatch: 'unquoted'`: the ETag must be sent
 * without its quotes (Ceph RGW compares the header with its stored, unquoted ETag verbatim);
 * AWS and MinIO take the quoted form that HTTP specifies.
 */
export type ConditionalWriteSupport = { enforced: false } | { enforced: true; ifMatch: 'quoted' | 'unquoted' };

interface BackendTarget {
  bucket: string;
  /** The store's prefix: "" or ending in "/". */
  keyBase: string;
  create: boolean;
  region: string;
  /** The bucket and endpoint, for messages. */
  where: string;
}

/** Fails fast, with the fix in the message, when the bucket cannot be used (creating it if asked to). */
export async function checkBucket(client: S3Client, metadata: Bounded, target: BackendTarget): Promise<void> {
  const { bucket, region, where } = target;
  let exists: boolean;
  try {
    exists = await ensureBucket(client, metadata, bucket, { create: target.create, region });
  } catch (err) {
    throw startupError(err, where);
  }
  if (!exists) {
    throw new Error(
      `${where} does not exist: create it, or set createBucket to create it at start-up (meant for development)`,
    );
  }
}

/** How the backend handles conditional writes (see {@link probeConditionalWrites}); failures name the fix. */
export async function checkConditionalWrites(
  client: S3Client,
  metadata: Bounded,
  target: BackendTarget,
): Promise<ConditionalWriteSupport> {
  try {
    return await probeConditionalWrites(client, metadata, target.bucket, `${target.keyBase}${probeKey(tempName())}`);
  } catch (err) {
    throw startupError(err, target.where);
  }
}

/** Whether the bucket exists, after creating it if `create` is set. */
async function ensureBucket(
  client: S3Client,
  bounded: Bounded,
  bucket: string,
  { create, region }: { create: boolean; region: string },
): Promise<boolean> {
  try {
    await bounded((abortSignal) => client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal }));
    return true;
  } catch (err) {
    if (httpStatus(err) !== 404) throw err;
  }
  if (!create) return false;
  const input = {
    Bucket: bucket,
    // us-east-1 is the one region that refuses to be named as a location constraint.
    CreateBucketConfiguration:
      region === 'us-east-1' ? undefined : { LocationConstraint: region as BucketLocationConstraint },
  };
  try {
    await bounded((abortSignal) => client.send(new CreateBucketCommand(input), { abortSignal }));
  } catch (err) {
    if (errorName(err) !== 'BucketAlreadyOwnedByYou') throw err;
  }
  return true;
}

/**
 * Finds out whether the backend enforces conditional writes, by trying them on a scratch key:
 * a second create-once of one key must fail, an `If-Match` with a wrong ETag must fail, and one
 * with the right ETag must succeed, quoted or (Ceph RGW) unquoted. s3rver and some appliances
 * ignore the headers and let everything through. After the first write, the four tests go together:
 * each writes the same body, so none moves the ETag the others test, and Ceph takes ~45 ms to
 * refuse a conditional write, on every start-up.
 */
async function probeConditionalWrites(
  client: S3Client,
  bounded: Bounded,
  bucket: string,
  key: string,
): Promise<ConditionalWriteSupport> {
  /** The written object's ETag (unquoted), or null when the write was refused. */
  const write = async (conditions: { IfNoneMatch?: string; IfMatch?: string }): Promise<string | null> => {
    const input = { Bucket: bucket, Key: key, Body: 'probe', ...conditions };
    try {
      const { ETag } = await bounded((abortSignal) => client.send(new PutObjectCommand(input), { abortSignal }));
      return unquote(ETag);
    } catch (err) {
      if (isConditionFailure(err) || isNotImplemented(err)) return null;
      throw err;
    }
  };
  try {
    const created = await write({ IfNoneMatch: '*' });
    if (created === null) return { enforced: false };
    // A backend that does not say the ETag of what it wrote is asked for it.
    const etag =
      created === ''
        ? unquote(
            (
              await bounded((abortSignal) =>
                client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal }),
              )
            ).ETag,
          )
        : created;
    // All four at once: every body is the same, so no write changes the ETag the others test.
    const [again, wrong, quoted, unquoted] = await Promise.all([
      write({ IfNoneMatch: '*' }),
      write({ IfMatch: '"00000000000000000000000000000000"' }),
      write({ IfMatch: `"${etag}"` }),
      write({ IfMatch: etag }),
    ]);
    if (again !== null || wrong !== null) return { enforced: false };
    if (quoted !== null) return { enforced: true, ifMatch: 'quoted' };
    if (unquoted !== null) return { enforced: true, ifMatch: 'unquoted' };
    // Both refused: AWS may refuse a conditional write racing another one on the key (409);
    // asked one at a time, the form it takes answers.
    if ((await write({ IfMatch: `"${etag}"` })) !== null) return { enforced: true, ifMatch: 'quoted' };
    if ((await write({ IfMatch: etag })) !== null) return { enforced: true, ifMatch: 'unquoted' };
    return { enforced: false };
  } finally {
    await bounded((abortSignal) =>
      client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), { abortSignal }),
    ).catch(() => undefined);
  }
}
