// @ts-check
/**
 * The peers bench's S3 publish floor: a file uploaded as one object by a multipart PutObject
 * (@aws-sdk/lib-storage's Upload, 8 MiB parts, 4 in flight), the AWS SDK set up as the registry
 * sets it up, in a process that does nothing else, as the registries' uploads are made by curl
 * (bench/_peers-http.mjs says why a client inside the bench would not do).
 *
 * Usage: node bench/_s3-put.mjs ENDPOINT ACCESS_KEY SECRET_KEY BUCKET KEY FILE; prints the seconds
 * the upload took, from the file's opening to the completed upload.
 */
import { createReadStream } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Upload } from '@aws-sdk/lib-storage';
import { s3Client } from './_registry.mjs';

const [endpoint, accessKeyId, secretAccessKey, bucket, key, file] = process.argv.slice(2);
const client = s3Client(endpoint, accessKeyId, secretAccessKey);
const started = performance.now();
await new Upload({
  client,
  params: { Bucket: bucket, Key: key, Body: createReadStream(file), ContentType: 'application/zip' },
  partSize: 8 * 1024 * 1024,
  queueSize: 4,
  leavePartsOnError: false,
}).done();
process.stdout.write(`${(performance.now() - started) / 1000}\n`);
