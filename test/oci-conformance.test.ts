/**
 * The OCI Distribution Specification's own conformance suite (v1.0.1, vendored with its runner in
 * scripts/oci-conformance/) against a real `pack-registry` process with authentication on, on the
 * fs store and on Ceph RGW (issue 13): once in the system registry's namespace as the SuperAdmin,
 * once in a project registry's namespace as a user whose only rights are there. The suite's client
 * follows the Bearer challenge to the token endpoint with OCI_USERNAME / OCI_PASSWORD.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from 'vitest';
import { tempDir } from '../packages/registry-server/src/test-support/test-registry.js';
import { REPO } from './helpers.js';
import { CEPH_PROBLEM, describeWhenAvailable, OPERATOR, toolProblem, useOciRegistry } from './oci-helpers.js';
import type { Backend } from './registry-process.js';

const RUN_SH = path.join(REPO, 'scripts/oci-conformance/run.sh');

/**
 * What v1.0.1 skips by design on a registry that supports everything: the variant of a setup step
 * for registries that cannot be pushed to (two), and the check of a mount that fell back to an
 * upload session (the registry mounted the blob: 201, checked by the spec before it).
 */
const SKIPPED_BY_DESIGN = [
  'OCI Distribution Conformance Tests Content Discovery Setup Populate registry with test tags (no push)',
  'OCI Distribution Conformance Tests Pull Setup Get tag name from environment',
  'OCI Distribution Conformance Tests Push Cross-Repository Blob Mount Cross-mounting of nonexistent blob should yield session id',
];

interface ConformanceResult {
  passed: number;
  failed: number;
  skipped: number;
  line: string;
  skippedSpecs: string[];
  failedSpecs: string[];
  output: string;
}

/** The junit report's names are XML attribute values: `&amp;` last, so `&amp;lt;` stays `&lt;`. */
function unescapeXml(text: string): string {
  return text
    .replaceAll('&#39;', "'")
    .replaceAll('&quot;', '"')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

/** The names of the junit report's test cases that hold `element` (skipped, failure). */
function casesWith(junit: string, element: string): string[] {
  const names: string[] = [];
  for (const testcase of junit.split('<testcase ').slice(1)) {
    const name = /^name="([^"]*)"/.exec(testcase)?.[1];
    const body = testcase.split('</testcase>')[0] ?? '';
    if (name !== undefined && body.includes(`<${element}`)) names.push(unescapeXml(name));
  }
  return names.sort();
}

/** Runs the suite against `url` in `namespace`; resolves with its summary and report. */
async function conformance(url: string, namespace: string, credentials: { username: string; password: string }) {
  const reports = await tempDir('packyard-oci-conformance-');
  try {
    const child = spawn('bash', [RUN_SH, url, namespace], {
      env: {
        ...process.env,
        OCI_USERNAME: credentials.username,
        OCI_PASSWORD: credentials.password,
        OCI_REPORT_DIR: reports.dir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const match = /oci-conformance: (\d+) passed, (\d+) failed, (\d+) skipped/.exec(output);
    if (!match || code === 2) throw new Error(`the conformance suite did not run (exit ${code}):\n${output}`);
    const junit = await readFile(path.join(reports.dir, 'junit.xml'), 'utf8');
    const result: ConformanceResult = {
      passed: Number(match[1]),
      failed: Number(match[2]),
      skipped: Number(match[3]),
      line: match[0],
      skippedSpecs: casesWith(junit, 'skipped'),
      failedSpecs: casesWith(junit, 'failure'),
      output,
    };
    return result;
  } finally {
    await reports.cleanup();
  }
}

/** The failures with the suite's output, for an assertion message worth reading. */
function explain(result: ConformanceResult): string {
  // eslint-disable-next-line no-control-regex -- the suite colours its output with ANSI escapes
  const plain = result.output.replace(/\x1b\[[0-9;]*m/g, '');
  return `${result.line}\nfailed: ${result.failedSpecs.join('\n  ')}\n\n${plain.slice(-8000)}`;
}

const goProblem = toolProblem(
  'go',
  ['version'],
  'the conformance suite is built with Debian Go (scripts/oci-conformance/run.sh installs it when run as root)',
);

const cases: Array<{ backend: Backend; problems: Array<string | undefined> }> = [
  { backend: 'fs', problems: [goProblem] },
  { backend: 'ceph', problems: [goProblem, CEPH_PROBLEM] },
];

for (const { backend, problems } of cases) {
  describeWhenAvailable(`OCI conformance suite against pack-registry on ${backend}`, problems, () => {
    const oci = useOciRegistry(backend, {
      tenant: 'acme',
      project: 'edge',
      registry: 'edge-oci',
      username: 'edge-pusher',
    });

    it('passes in the system registry public, as the SuperAdmin', async () => {
      const result = await conformance(oci.registry.url, 'public/conformance', OPERATOR);
      console.log(`pack-registry (${backend}), public/conformance: ${result.line}`);
      expect(result.failed, explain(result)).toBe(0);
      expect(result.skippedSpecs).toEqual(SKIPPED_BY_DESIGN);
      expect(result.passed + result.skipped).toBe(62);
    }, 180_000);

    it('passes in a project registry, as a user with rights only there', async () => {
      const result = await conformance(oci.registry.url, `${oci.pusher.namespace}/conformance`, oci.pusher);
      console.log(`pack-registry (${backend}), ${oci.pusher.namespace}/conformance: ${result.line}`);
      expect(result.failed, explain(result)).toBe(0);
      expect(result.skippedSpecs).toEqual(SKIPPED_BY_DESIGN);
      expect(result.passed + result.skipped).toBe(62);
    }, 180_000);

    it('keeps the project user out of the system registry: their run fails at the first push', async () => {
      const result = await conformance(oci.registry.url, 'public/not-theirs', oci.pusher);
      expect(result.failed).toBeGreaterThan(0);
      expect(result.failedSpecs).toContain(
        'OCI Distribution Conformance Tests Pull Setup Populate registry with test blob',
      );
    }, 180_000);
  });
}
