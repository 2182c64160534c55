// @ts-check
/**
 * The least an S3 relay can do, for the peers bench's "blob cache off" row: an HTTP server that
 * answers GET /KEY with the object's GetObject body piped straight into the response (the AWS
 * SDK set up as the registry sets it up; no auth, routing, checks or counting). Run as its own
 * process, as a registry is, it shows what relaying through one more process on this machine
 * costs against the same client (curl) reading the GetObject by a presigned URL.
 *
 * Usage: node bench/_s3-relay.mjs ENDPOINT ACCESS_KEY SECRET_KEY BUCKET; prints its port.
 */
import http from 'node:http';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { s3Client } from './_registry.mjs';

const [endpoint, accessKeyId, secretAccessKey, bucket] = process.argv.slice(2);
const client = s3Client(endpoint, accessKeyId, secretAccessKey);
const server = http.createServer((req, res) => {
  client
    .send(new GetObjectCommand({ Bucket: bucket, Key: decodeURIComponent((req.url ?? '/').slice(1)) }))
    .then((output) => {
      res.writeHead(200, { 'Content-Length': String(output.ContentLength), 'Content-Type': 'application/zip' });
      return pipeline(/** @type {import('node:stream').Readable} */ (output.Body), res);
    })
    .catch((/** @type {unknown} */ err) => {
      process.stderr.write(`relay: ${err instanceof Error ? err.message : String(err)}\n`);
      res.destroy();
    });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
