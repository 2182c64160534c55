import { describe, expect, it } from 'vitest';
import { MAX_MANIFEST_CLOUD_TYPES, MAX_MANIFEST_DEPENDENCIES } from '@packyard/registry-api';
import {
  checkArchiveRecord,
  checkIssuedToken,
  checkResolverDetails,
  checkVersion,
  MAX_ARCHIVE_BYTES,
} from './answers.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const record = (changes: Record<string, unknown> = {}) => ({
  name: 'cni-calico',
  version: '3.27.2',
  digest: DIGEST,
  size: 711,
  ...changes,
});

describe('checkArchiveRecord', () => {
  it('accepts the record asked for, by exact version, tag, range or as the latest', () => {
    expect(checkArchiveRecord(record(), 'cni-calico', { selector: '3.27.2' }, 'x')).toEqual(record());
    expect(checkArchiveRecord(record(), 'cni-calico', { selector: '3.27.x' }, 'x').version).toBe('3.27.2');
    expect(checkArchiveRecord(record(), 'cni-calico', { selector: '>=3.26 <3.28' }, 'x').version).toBe('3.27.2');
    expect(checkArchiveRecord(record({ version: 'v3.27.2' }), 'cni-calico', { selector: '3.27.2' }, 'x').version).toBe(
      'v3.27.2',
    );
    expect(checkArchiveRecord(record(), 'cni-calico', { exactly: '3.27.2' }, 'x').version).toBe('3.27.2');
  });

  it('refuses names and versions that would leave a directory, whatever was asked', () => {
    for (const name of ['../../escape-name', 'a/b', '..', '', 'CNI', 'x\u0000y']) {
      expect(() => checkArchiveRecord(record({ name }), 'cni-calico', { selector: '3.27.2' }, 'x')).toThrow('refused');
    }
    for (const version of ['1.0.0/../../../escape-ver', '..', '3.27.2/', '3.27.2\\..', '', 'latest']) {
      expect(() => checkArchiveRecord(record({ version }), 'cni-calico', { selector: '>=0' }, 'x')).toThrow('refused');
    }
  });

  it('refuses a record for another pack or a version that is not the one asked for', () => {
    expect(() => checkArchiveRecord(record({ name: 'other' }), 'cni-calico', { selector: '3.27.2' }, 'x')).toThrow(
      'is for the pack "other", not cni-calico',
    );
    expect(() => checkArchiveRecord(record(), 'cni-calico', { selector: '3.26.x' }, 'x')).toThrow(
      'is for version 3.27.2, which is not 3.26.x',
    );
    expect(() => checkArchiveRecord(record(), 'cni-calico', { exactly: '3.27.3' }, 'x')).toThrow('which is not 3.27.3');
  });

  it('refuses malformed digests and sizes', () => {
    for (const digest of ['sha256:abc', 'md5:' + 'a'.repeat(32), 42, null]) {
      expect(() => checkArchiveRecord(record({ digest }), 'cni-calico', { selector: '3.27.2' }, 'x')).toThrow('digest');
    }
    for (const size of [-1, 1.5, '711', MAX_ARCHIVE_BYTES + 1, Number.MAX_SAFE_INTEGER + 2, null]) {
      expect(() => checkArchiveRecord(record({ size }), 'cni-calico', { selector: '3.27.2' }, 'x')).toThrow('size');
    }
    expect(() => checkArchiveRecord([], 'cni-calico', { selector: '3.27.2' }, 'x')).toThrow('not a JSON object');
  });

  it('quotes only a short excerpt of a huge hostile value', () => {
    const error = (() => {
      try {
        checkArchiveRecord(record({ name: 'x'.repeat(100_000) }), 'cni-calico', { selector: '3.27.2' }, 'x');
      } catch (err) {
        return err as Error;
      }
      return null;
    })();
    expect(error?.message.length).toBeLessThan(300);
  });
});

describe('checkVersion, checkIssuedToken, checkResolverDetails', () => {
  it('refuses a listed version outside the grammar', () => {
    expect(checkVersion('1.29.4', 'x')).toBe('1.29.4');
    expect(() => checkVersion('../1.0.0', 'x')).toThrow('refused');
    expect(() => checkVersion(7, 'x')).toThrow('refused');
  });

  it('refuses a token that cannot go into a header', () => {
    const expiresAt = new Date().toISOString();
    expect(checkIssuedToken({ token: 'pya_abc', expiresAt }, 'x').token).toBe('pya_abc');
    expect(() => checkIssuedToken({ token: 'a\r\nX-Evil: 1', expiresAt }, 'x')).toThrow('token');
    expect(() => checkIssuedToken({ token: 'a'.repeat(5000), expiresAt }, 'x')).toThrow('token');
    expect(() => checkIssuedToken({ token: 'pya_abc', expiresAt: 'never' }, 'x')).toThrow('expiry');
  });

  it('refuses dependencies the resolver cannot read', () => {
    const details = (constraints: unknown) => checkResolverDetails({ manifest: { constraints } }, 'x');
    expect(
      details({ dependencies: [{ packName: 'k8s', layer: 'k8s', type: 'required', minVersion: '1.27' }] }),
    ).toEqual({
      cloudTypes: [],
      dependencies: [{ packName: 'k8s', layer: 'k8s', type: 'required', minVersion: '1.27' }],
    });
    expect(() => details({ dependencies: [{ packName: 5, layer: 'k8s', type: 'required' }] })).toThrow('dependency');
    expect(() => details({ dependencies: 'all' })).toThrow('not a list');
    expect(() => checkResolverDetails({ manifest: { cloudTypes: [1] } }, 'x')).toThrow('cloudTypes');
  });

  it('refuses more dependencies or cloud types than a pack.json the registry takes can hold', () => {
    const dependency = { packName: 'a', layer: 'addon', type: 'required' };
    const many = (n: number) => Array.from({ length: n }, () => dependency);
    const details = (dependencies: unknown[]) =>
      checkResolverDetails({ manifest: { constraints: { dependencies } } }, 'x');
    expect(details(many(MAX_MANIFEST_DEPENDENCIES)).dependencies).toHaveLength(MAX_MANIFEST_DEPENDENCIES);
    expect(() => details(many(MAX_MANIFEST_DEPENDENCIES + 1))).toThrow(
      `lists more than ${MAX_MANIFEST_DEPENDENCIES} dependencies`,
    );
    const cloudTypes = Array.from({ length: MAX_MANIFEST_CLOUD_TYPES + 1 }, () => 'aws');
    expect(() => checkResolverDetails({ manifest: { cloudTypes } }, 'x')).toThrow('cloud types');
  });
});
