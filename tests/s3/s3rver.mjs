// Starts s3rver (an S3-compatible server from npm, installed by
// `npm ci` in this folder) for the tests, with its objects under a given
// directory and the given buckets made before it listens.
//
//   node tests/s3/s3rver.mjs --directory DIR --bucket NAME [--port N]
//
// With --port 0 (the default) it listens on a free port of 127.0.0.1. The
// first line on stdout is the port. It stops on SIGTERM or SIGINT, and also
// when its standard input closes, so a test run that dies without stopping
// it does not leave it behind.
//
// s3rver checks that the access key is one it knows (S3RVER, secret
// S3RVER) but does not verify SigV4 signatures: see docs/s3.md.
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let S3rver;
try {
  S3rver = require('s3rver');
} catch (e) {
  console.error('s3rver.mjs: s3rver is not installed: run ' +
                '(cd tests/s3 && npm ci --no-audit --no-fund)');
  process.exit(3);
}

const { values } = parseArgs({
  options: {
    directory: { type: 'string' },
    bucket: { type: 'string', multiple: true, default: [] },
    port: { type: 'string', default: '0' },
    verbose: { type: 'boolean', default: false },
  },
});
if (!values.directory) {
  console.error('s3rver.mjs: --directory is required');
  process.exit(2);
}

const server = new S3rver({
  address: '127.0.0.1',
  port: Number(values.port),
  directory: values.directory,
  silent: !values.verbose,
  // Path-style only: http://127.0.0.1:PORT/<bucket>/<key>.
  vhostBuckets: false,
  configureBuckets: values.bucket.map((name) => ({ name })),
});

let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  try {
    await server.close();
  } catch {
    // not listening yet, or already closed
  }
  process.exit(code);
}

process.on('SIGTERM', () => stop(0));
process.on('SIGINT', () => stop(0));
process.stdin.on('end', () => stop(0));
process.stdin.on('error', () => stop(0));
process.stdin.resume();

try {
  const addr = await server.run();
  process.stdout.write(`${addr.port}\n`);
} catch (e) {
  console.error(`s3rver.mjs: cannot start: ${e.message}`);
  process.exit(1);
}
