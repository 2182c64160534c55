import { configDefaults, defineConfig } from 'vitest/config';
import type { Driver } from './packages/registry-server/src/test-support/test-registry.js';

/**
 * Two projects (issue 12, item 7), which `vitest run` (`npm test`) runs together:
 *
 * - `unit`: in-process tests next to the code, on the fs store; no process is spawned for them, so
 *   `npm run test:unit` needs no s3rver and no built `pack-registry`.
 * - `e2e`: what needs processes or S3: the end-to-end tests under `test/` (the built `packctl` and
 *   `pack-registry`), the storage conformance suites, and the S3 runs (s3rver, and Ceph when
 *   S3_TEST_ENDPOINT points at one) of the server's driver-parameterised suites.
 *
 * A suite parameterised over `DRIVERS` (test-support/test-registry.ts) is in both projects and
 * each runs its own drivers (`storageDrivers` below), so no test runs twice.
 */

/** Parameterised over the drivers: their fs runs are unit tests, their S3 runs e2e tests. */
const DRIVER_SUITES = [
  'packages/registry-server/src/catalog/catalog-sync.test.ts',
  'packages/registry-server/src/gc.test.ts',
  'packages/registry-server/src/oci/oci-api.test.ts',
  'packages/registry-server/src/oci/oci-hostile.test.ts',
  'packages/registry-server/src/oci/pack-repositories.test.ts',
  'packages/registry-server/src/publish/hostile-uploads.test.ts',
  'packages/registry-server/src/routes/identity.test.ts',
  'packages/registry-server/src/routes/publish.test.ts',
  'packages/registry-server/src/routes/read-side.test.ts',
  'packages/registry-server/src/packs/version-service.test.ts',
  'packages/registry-server/src/packs/pack-usage.test.ts',
  'packages/registry-server/src/routes/cluster-profiles.test.ts',
];

/** Whole files that talk to S3 (the s3rver of the global setup, or a fake S3 on loopback). */
const S3_SUITES = [
  'packages/registry-server/src/routes/blob-cache.test.ts',
  'packages/registry-server/src/routes/stalled-storage.test.ts',
  'packages/registry-server/src/storage/file-modes.test.ts',
  'packages/registry-server/src/storage/object-store.test.ts',
  'packages/registry-server/src/storage/s3/s3-timeouts.test.ts',
];

const S3_DRIVERS: Driver[] = process.env['S3_TEST_ENDPOINT'] ? ['s3rver', 'ceph'] : ['s3rver'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...S3_SUITES],
          provide: { storageDrivers: ['fs'] },
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/**/*.test.ts', ...S3_SUITES, ...DRIVER_SUITES],
          // The s3rver and the shared pack-registry: only the e2e tests use them.
          globalSetup: ['test/global-setup.ts'],
          provide: { storageDrivers: S3_DRIVERS },
        },
      },
    ],
  },
});
