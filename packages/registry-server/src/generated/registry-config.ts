// Generated from schemas/registry-config.schema.json by scripts/gen-schema-types.mjs. Do not edit by hand.

/**
 * The pack-registry configuration file (YAML or JSON). Every field is optional: defaults, then this file, then PACKYARD_* environment variables, then command-line flags.
 */
export interface RegistryConfigFile {
  $schema?: string;
  server?: {
    /**
     * Address to listen on (default 127.0.0.1; 0.0.0.0 for every interface).
     */
    host?: string;
    /**
     * TCP port (default 5080; 0 picks a free one).
     */
    port?: number;
    /**
     * Trust X-Forwarded-* headers from a reverse proxy (default false).
     */
    trustProxy?: boolean;
    /**
     * The most client connections held open at once (default 4096); past it a new connection is closed as soon as it is accepted. Keeps descriptors for the store and its own files when many clients connect (or hold connections open) at once. Keep it well below the process's open-file limit (ulimit -n; LimitNOFILE under systemd).
     */
    maxConnections?: number;
    /**
     * The most connections one client address holds open at once (default 256, or 0 when trustProxy is set: behind a proxy every connection comes from the proxy's address); past it a new connection from that address is closed as soon as it is accepted, so that one client cannot take every connection of maxConnections from the others. 0: no cap per address.
     */
    maxConnectionsPerAddress?: number;
    /**
     * How long a graceful shutdown waits for in-flight requests (default 30).
     */
    shutdownTimeoutSeconds?: number;
    /**
     * The URL clients reach the registry at (http or https, no query), for links in responses and the realm of the /v2 Bearer challenge. Unset: taken from each request's Host and protocol (X-Forwarded-* only with trustProxy).
     */
    publicUrl?: string;
  };
  /**
   * Local directory for the filesystem store, temporary uploads and the generated admin token (default ./data).
   */
  dataDir?: string;
  storage?: {
    /**
     * fs: files under dataDir (the embedded default). s3: any S3-compatible store.
     */
    driver?: 'fs' | 's3';
    fs?: {
      /**
       * Default <dataDir>/store.
       */
      root?: string;
    };
    s3?: {
      /**
       * e.g. http://minio:9000; leave out for AWS S3.
       */
      endpoint?: string;
      region?: string;
      bucket?: string;
      /**
       * Key prefix inside the bucket, without leading or trailing slash.
       */
      prefix?: string;
      /**
       * Path-style addressing (MinIO, Ceph RGW and most on-prem stores need it).
       */
      forcePathStyle?: boolean;
      /**
       * Prefer the standard AWS credential chain (AWS_ACCESS_KEY_ID, profiles, instance roles).
       */
      accessKeyId?: string;
      secretAccessKey?: string;
      /**
       * Create the bucket when it is missing (development).
       */
      createBucket?: boolean;
      /**
       * Multipart upload part size (default 8).
       */
      partSizeMiB?: number;
      /**
       * Answer archive downloads with a redirect (307) to a short-lived presigned URL of the bucket, so the bytes do not pass through the registry. Clients must be able to reach the S3 endpoint (default false).
       */
      redirectDownloads?: boolean;
      /**
       * How long a metadata call to the bucket (get, put, head, list or delete of a record) may take in all, retries included, and how long a download may wait for its headers; then the request fails with 503 STORAGE_UNAVAILABLE (default 10).
       */
      deadlineSeconds?: number;
      /**
       * How long a transfer (an upload part, a download's body) may go without a byte moving before it fails with 503 STORAGE_UNAVAILABLE; the transfer as a whole is not bounded (default 15).
       */
      idleSeconds?: number;
    };
  };
  auth?: {
    /**
     * The bootstrap admin token; prefer PACKYARD_ADMIN_TOKEN. When unset, one is generated at first start and written to <dataDir>/admin-token (mode 0600).
     */
    adminToken?: string;
    /**
     * Let anonymous callers read system registries marked public (default true).
     */
    anonymousRead?: boolean;
    /**
     * The first SuperAdmin, created at first start when no operator exists. Prefer PACKYARD_SUPERADMIN_USERNAME and PACKYARD_SUPERADMIN_PASSWORD; without a password one is generated, written to <dataDir>/superadmin-password (mode 0600) and printed once.
     */
    superAdmin?: {
      username?: string;
      password?: string;
    };
    /**
     * Lifetime of the access tokens POST /v1/auth/login issues (default 900).
     */
    tokenTtlSeconds?: number;
    /**
     * Lifetime of the OCI registry tokens GET /v2/token issues to Docker, ORAS, skopeo, Helm (default 300).
     */
    registryTokenTtlSeconds?: number;
    /**
     * The service name of the /v2 Bearer challenge; registry tokens are issued for it and accepted only for it (default packyard).
     */
    registryService?: string;
    /**
     * scrypt cost as log2(N) for new password hashes (default 17; below 15 only for tests).
     */
    passwordHashCost?: number;
    /**
     * Failed logins allowed per username and per client address within loginWindowSeconds (default 10).
     */
    maxFailedLogins?: number;
    /**
     * The window failed logins are counted in (default 300).
     */
    loginWindowSeconds?: number;
    /**
     * How long a password sign-in lasts at most, refreshes included (default 43200: 12 hours); an API key's session ends with the key.
     */
    sessionMaxSeconds?: number;
    /**
     * Password hashes (scrypt) one process runs at once (default: half of libuv's thread pool, so 2), leaving threads for file I/O.
     */
    passwordHashConcurrency?: number;
    /**
     * Sign-ins that may wait for a hash (default 32); past it, 429 LOGIN_BUSY with Retry-After.
     */
    passwordHashQueue?: number;
    /**
     * Places in that queue one client address may hold (default 4).
     */
    passwordHashQueuePerClient?: number;
  };
  limits?: {
    /**
     * Largest pack archive accepted (default 2 GiB).
     */
    maxUploadBytes?: number;
    maxEntries?: number;
    maxEntryBytes?: number;
    maxTotalBytes?: number;
    maxCompressionRatio?: number;
    /**
     * Largest ratio of what all entries of an archive inflate to over the archive's size (default 50; archives inflating to under 8 MiB are exempt): an aggregate zip bomb.
     */
    maxArchiveRatio?: number;
    /**
     * Worker threads that check uploaded packs, hence packs checked at once (default 1; each is an isolate of about 25 MB).
     */
    inspectionThreads?: number;
    /**
     * How long the check of one pack may take before it is refused with 422 PACK_TOO_EXPENSIVE (default 60).
     */
    inspectionTimeBudgetSeconds?: number;
    /**
     * Heap of each checking worker (default 2048): a pack whose check needs more is refused with 422 PACK_TOO_EXPENSIVE.
     */
    inspectionMaxMemoryMiB?: number;
  };
  /**
   * A local disk cache of pack archives for the S3 driver: archives are immutable and content-addressed, so a copy kept at publish or after the first download serves later downloads without a round trip to the bucket. Least recently used archives are evicted past maxBytes.
   */
  blobCache?: {
    /**
     * Disk space for cached archives (default 10 GiB; 0 turns the cache off).
     */
    maxBytes?: number;
    /**
     * Where (default <dataDir>/blob-cache).
     */
    dir?: string;
  };
  catalog?: {
    /**
     * How often a replica reads the change log (default 500).
     */
    pollIntervalMs?: number;
    /**
     * Write a compacted index snapshot after this many changes (default 500).
     */
    snapshotEveryChanges?: number;
    /**
     * Catalog answers kept for repeated queries until the catalog changes (default 256; 0 turns the cache off).
     */
    queryCacheSize?: number;
  };
  /**
   * The OCI distribution API on /v2/.
   */
  oci?: {
    /**
     * Largest blob pushed through /v2/ (default 10 GiB).
     */
    maxBlobBytes?: number;
    /**
     * Largest manifest pushed through /v2/ (default 4 MiB).
     */
    maxManifestBytes?: number;
    /**
     * An upload session with no request for this long is removed with its data (default 3600). Chunked uploads keep their state in the process that started them: use sticky sessions in front of several replicas.
     */
    uploadIdleSeconds?: number;
    /**
     * A request body that brings less than 1 KiB a second over this long (a pause, or a byte now and then) is cut off (default 60): through /v2/ (blob chunk, monolithic blob, manifest) with 408, keeping the upload session; elsewhere (a publish, a JSON body, the /v2/token form, the unread rest of a body already answered) by closing the connection. An answer the client takes nothing of for twice this long (a download it stopped reading; a 1 MiB write at under ~9 KB/s) closes its connection too. A client cannot hold a connection, an upload session, a temporary file or an archive's send buffers forever.
     */
    bodyIdleSeconds?: number;
  };
  audit?: {
    /**
     * Audit entries recorded per minute for failed requests by unauthenticated callers, all addresses together (default 60); the rest are counted, not written.
     */
    unauthenticatedPerMinute?: number;
    /**
     * The same, per client address (default 10).
     */
    unauthenticatedPerAddressPerMinute?: number;
    /**
     * Days the entries of unauthenticated callers are kept (default 30).
     */
    unauthenticatedRetentionDays?: number;
    /**
     * Days every other entry is kept (the system's, each tenant's and project's); unset (the default), they are kept for good. Export what you must keep longer first (packctl audit export).
     */
    retentionDays?: number;
  };
  metrics?: {
    /**
     * Bearer token a Prometheus scraper sends to GET /metrics (PACKYARD_METRICS_TOKEN). Without it, only operators (the admin token or a SuperAdmin) may read /metrics.
     */
    token?: string;
  };
  logging?: {
    level?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  };
}

export const registryConfigSchema = {
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://packyard.dev/schemas/registry-config.schema.json",
  "title": "RegistryConfigFile",
  "description": "The pack-registry configuration file (YAML or JSON). Every field is optional: defaults, then this file, then PACKYARD_* environment variables, then command-line flags.",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "$schema": {
      "type": "string"
    },
    "server": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "host": {
          "type": "string",
          "minLength": 1,
          "description": "Address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)."
        },
        "port": {
          "type": "integer",
          "minimum": 0,
          "maximum": 65535,
          "description": "TCP port (default 5080; 0 picks a free one)."
        },
        "trustProxy": {
          "type": "boolean",
          "description": "Trust X-Forwarded-* headers from a reverse proxy (default false)."
        },
        "maxConnections": {
          "type": "integer",
          "minimum": 1,
          "description": "The most client connections held open at once (default 4096); past it a new connection is closed as soon as it is accepted. Keeps descriptors for the store and its own files when many clients connect (or hold connections open) at once. Keep it well below the process's open-file limit (ulimit -n; LimitNOFILE under systemd)."
        },
        "maxConnectionsPerAddress": {
          "type": "integer",
          "minimum": 0,
          "description": "The most connections one client address holds open at once (default 256, or 0 when trustProxy is set: behind a proxy every connection comes from the proxy's address); past it a new connection from that address is closed as soon as it is accepted, so that one client cannot take every connection of maxConnections from the others. 0: no cap per address."
        },
        "shutdownTimeoutSeconds": {
          "type": "number",
          "minimum": 0,
          "description": "How long a graceful shutdown waits for in-flight requests (default 30)."
        },
        "publicUrl": {
          "type": "string",
          "pattern": "^https?://[^/?#\\s]+(/[^?#\\s]*)?$",
          "description": "The URL clients reach the registry at (http or https, no query), for links in responses and the realm of the /v2 Bearer challenge. Unset: taken from each request's Host and protocol (X-Forwarded-* only with trustProxy)."
        }
      }
    },
    "dataDir": {
      "type": "string",
      "minLength": 1,
      "description": "Local directory for the filesystem store, temporary uploads and the generated admin token (default ./data)."
    },
    "storage": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "driver": {
          "enum": [
            "fs",
            "s3"
          ],
          "description": "fs: files under dataDir (the embedded default). s3: any S3-compatible store."
        },
        "fs": {
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "root": {
              "type": "string",
              "minLength": 1,
              "description": "Default <dataDir>/store."
            }
          }
        },
        "s3": {
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "endpoint": {
              "type": "string",
              "minLength": 1,
              "description": "e.g. http://minio:9000; leave out for AWS S3."
            },
            "region": {
              "type": "string",
              "minLength": 1
            },
            "bucket": {
              "type": "string",
              "minLength": 3,
              "maxLength": 63
            },
            "prefix": {
              "type": "string",
              "pattern": "^([A-Za-z0-9._~@+=-]+(/[A-Za-z0-9._~@+=-]+)*)?$",
              "description": "Key prefix inside the bucket, without leading or trailing slash."
            },
            "forcePathStyle": {
              "type": "boolean",
              "description": "Path-style addressing (MinIO, Ceph RGW and most on-prem stores need it)."
            },
            "accessKeyId": {
              "type": "string",
              "minLength": 1,
              "description": "Prefer the standard AWS credential chain (AWS_ACCESS_KEY_ID, profiles, instance roles)."
            },
            "secretAccessKey": {
              "type": "string",
              "minLength": 1
            },
            "createBucket": {
              "type": "boolean",
              "description": "Create the bucket when it is missing (development)."
            },
            "partSizeMiB": {
              "type": "integer",
              "minimum": 5,
              "maximum": 5120,
              "description": "Multipart upload part size (default 8)."
            },
            "redirectDownloads": {
              "type": "boolean",
              "description": "Answer archive downloads with a redirect (307) to a short-lived presigned URL of the bucket, so the bytes do not pass through the registry. Clients must be able to reach the S3 endpoint (default false)."
            },
            "deadlineSeconds": {
              "type": "number",
              "exclusiveMinimum": 0,
              "maximum": 300,
              "description": "How long a metadata call to the bucket (get, put, head, list or delete of a record) may take in all, retries included, and how long a download may wait for its headers; then the request fails with 503 STORAGE_UNAVAILABLE (default 10)."
            },
            "idleSeconds": {
              "type": "number",
              "exclusiveMinimum": 0,
              "maximum": 3600,
              "description": "How long a transfer (an upload part, a download's body) may go without a byte moving before it fails with 503 STORAGE_UNAVAILABLE; the transfer as a whole is not bounded (default 15)."
            }
          }
        }
      }
    },
    "auth": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "adminToken": {
          "type": "string",
          "minLength": 24,
          "description": "The bootstrap admin token; prefer PACKYARD_ADMIN_TOKEN. When unset, one is generated at first start and written to <dataDir>/admin-token (mode 0600)."
        },
        "anonymousRead": {
          "type": "boolean",
          "description": "Let anonymous callers read system registries marked public (default true)."
        },
        "superAdmin": {
          "type": "object",
          "additionalProperties": false,
          "description": "The first SuperAdmin, created at first start when no operator exists. Prefer PACKYARD_SUPERADMIN_USERNAME and PACKYARD_SUPERADMIN_PASSWORD; without a password one is generated, written to <dataDir>/superadmin-password (mode 0600) and printed once.",
          "properties": {
            "username": {
              "type": "string",
              "pattern": "^[a-z0-9][a-z0-9._@+-]{0,127}$"
            },
            "password": {
              "type": "string",
              "minLength": 12
            }
          }
        },
        "tokenTtlSeconds": {
          "type": "integer",
          "minimum": 60,
          "maximum": 86400,
          "description": "Lifetime of the access tokens POST /v1/auth/login issues (default 900)."
        },
        "registryTokenTtlSeconds": {
          "type": "integer",
          "minimum": 30,
          "maximum": 3600,
          "description": "Lifetime of the OCI registry tokens GET /v2/token issues to Docker, ORAS, skopeo, Helm (default 300)."
        },
        "registryService": {
          "type": "string",
          "pattern": "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$",
          "description": "The service name of the /v2 Bearer challenge; registry tokens are issued for it and accepted only for it (default packyard)."
        },
        "passwordHashCost": {
          "type": "integer",
          "minimum": 10,
          "maximum": 20,
          "description": "scrypt cost as log2(N) for new password hashes (default 17; below 15 only for tests)."
        },
        "maxFailedLogins": {
          "type": "integer",
          "minimum": 1,
          "description": "Failed logins allowed per username and per client address within loginWindowSeconds (default 10)."
        },
        "loginWindowSeconds": {
          "type": "integer",
          "minimum": 1,
          "description": "The window failed logins are counted in (default 300)."
        },
        "sessionMaxSeconds": {
          "type": "integer",
          "minimum": 60,
          "description": "How long a password sign-in lasts at most, refreshes included (default 43200: 12 hours); an API key's session ends with the key."
        },
        "passwordHashConcurrency": {
          "type": "integer",
          "minimum": 1,
          "description": "Password hashes (scrypt) one process runs at once (default: half of libuv's thread pool, so 2), leaving threads for file I/O."
        },
        "passwordHashQueue": {
          "type": "integer",
          "minimum": 0,
          "description": "Sign-ins that may wait for a hash (default 32); past it, 429 LOGIN_BUSY with Retry-After."
        },
        "passwordHashQueuePerClient": {
          "type": "integer",
          "minimum": 1,
          "description": "Places in that queue one client address may hold (default 4)."
        }
      }
    },
    "limits": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "maxUploadBytes": {
          "type": "integer",
          "minimum": 1024,
          "description": "Largest pack archive accepted (default 2 GiB)."
        },
        "maxEntries": {
          "type": "integer",
          "minimum": 1
        },
        "maxEntryBytes": {
          "type": "integer",
          "minimum": 1
        },
        "maxTotalBytes": {
          "type": "integer",
          "minimum": 1
        },
        "maxCompressionRatio": {
          "type": "number",
          "minimum": 1
        },
        "maxArchiveRatio": {
          "type": "integer",
          "minimum": 1,
          "description": "Largest ratio of what all entries of an archive inflate to over the archive's size (default 50; archives inflating to under 8 MiB are exempt): an aggregate zip bomb."
        },
        "inspectionThreads": {
          "type": "integer",
          "minimum": 1,
          "description": "Worker threads that check uploaded packs, hence packs checked at once (default 1; each is an isolate of about 25 MB)."
        },
        "inspectionTimeBudgetSeconds": {
          "type": "integer",
          "minimum": 1,
          "description": "How long the check of one pack may take before it is refused with 422 PACK_TOO_EXPENSIVE (default 60)."
        },
        "inspectionMaxMemoryMiB": {
          "type": "integer",
          "minimum": 64,
          "description": "Heap of each checking worker (default 2048): a pack whose check needs more is refused with 422 PACK_TOO_EXPENSIVE."
        }
      }
    },
    "blobCache": {
      "type": "object",
      "additionalProperties": false,
      "description": "A local disk cache of pack archives for the S3 driver: archives are immutable and content-addressed, so a copy kept at publish or after the first download serves later downloads without a round trip to the bucket. Least recently used archives are evicted past maxBytes.",
      "properties": {
        "maxBytes": {
          "type": "integer",
          "minimum": 0,
          "description": "Disk space for cached archives (default 10 GiB; 0 turns the cache off)."
        },
        "dir": {
          "type": "string",
          "minLength": 1,
          "description": "Where (default <dataDir>/blob-cache)."
        }
      }
    },
    "catalog": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "pollIntervalMs": {
          "type": "integer",
          "minimum": 50,
          "description": "How often a replica reads the change log (default 500)."
        },
        "snapshotEveryChanges": {
          "type": "integer",
          "minimum": 1,
          "description": "Write a compacted index snapshot after this many changes (default 500)."
        },
        "queryCacheSize": {
          "type": "integer",
          "minimum": 0,
          "description": "Catalog answers kept for repeated queries until the catalog changes (default 256; 0 turns the cache off)."
        }
      }
    },
    "oci": {
      "type": "object",
      "additionalProperties": false,
      "description": "The OCI distribution API on /v2/.",
      "properties": {
        "maxBlobBytes": {
          "type": "integer",
          "minimum": 1024,
          "description": "Largest blob pushed through /v2/ (default 10 GiB)."
        },
        "maxManifestBytes": {
          "type": "integer",
          "minimum": 1024,
          "description": "Largest manifest pushed through /v2/ (default 4 MiB)."
        },
        "uploadIdleSeconds": {
          "type": "integer",
          "minimum": 1,
          "description": "An upload session with no request for this long is removed with its data (default 3600). Chunked uploads keep their state in the process that started them: use sticky sessions in front of several replicas."
        },
        "bodyIdleSeconds": {
          "type": "integer",
          "minimum": 1,
          "description": "A request body that brings less than 1 KiB a second over this long (a pause, or a byte now and then) is cut off (default 60): through /v2/ (blob chunk, monolithic blob, manifest) with 408, keeping the upload session; elsewhere (a publish, a JSON body, the /v2/token form, the unread rest of a body already answered) by closing the connection. An answer the client takes nothing of for twice this long (a download it stopped reading; a 1 MiB write at under ~9 KB/s) closes its connection too. A client cannot hold a connection, an upload session, a temporary file or an archive's send buffers forever."
        }
      }
    },
    "audit": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "unauthenticatedPerMinute": {
          "type": "integer",
          "minimum": 0,
          "description": "Audit entries recorded per minute for failed requests by unauthenticated callers, all addresses together (default 60); the rest are counted, not written."
        },
        "unauthenticatedPerAddressPerMinute": {
          "type": "integer",
          "minimum": 0,
          "description": "The same, per client address (default 10)."
        },
        "unauthenticatedRetentionDays": {
          "type": "integer",
          "minimum": 1,
          "description": "Days the entries of unauthenticated callers are kept (default 30)."
        },
        "retentionDays": {
          "type": "integer",
          "minimum": 1,
          "description": "Days every other entry is kept (the system's, each tenant's and project's); unset (the default), they are kept for good. Export what you must keep longer first (packctl audit export)."
        }
      }
    },
    "metrics": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "token": {
          "type": "string",
          "minLength": 16,
          "description": "Bearer token a Prometheus scraper sends to GET /metrics (PACKYARD_METRICS_TOKEN). Without it, only operators (the admin token or a SuperAdmin) may read /metrics."
        }
      }
    },
    "logging": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "level": {
          "enum": [
            "fatal",
            "error",
            "warn",
            "info",
            "debug",
            "trace",
            "silent"
          ]
        }
      }
    }
  }
} as const;
