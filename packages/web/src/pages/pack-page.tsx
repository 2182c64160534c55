/**
 * A pack's page: what it is (logo, names, layer, clouds, add-on type, annotations), its versions
 * (line tags as such, deprecated ones with their message), and for the chosen version its digest,
 * size, publisher, README, values.yaml (with the images pack.json lists), presets and schema, the
 * archive's files, its constraints as links to those packs, who uses it (the cluster profiles
 * selecting it and the packs whose constraints name it), every version with its download count,
 * and snippets to copy.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { useLoad } from '../hooks/use-load.js';
import { ociReference } from '@packyard/registry-api/oci-reference';
import {
  filePath,
  listRegistries,
  packDetail,
  packDownloads,
  packImage,
  packsNamed,
  packText,
  packUsage,
  versionRecord,
  type PackDetail,
  type Registry,
  type VersionRecord,
} from '../api.js';
import { CopyButton } from '../components/copy-button.js';
import { ErrorBox } from '../components/error-box.js';
import { PackBadges } from '../components/pack-badges.js';
import { PackLogo } from '../components/pack-logo.js';
import { YamlView } from '../components/yaml-view.js';
import { navigate, packHref, profilePagePath, profileScopeRef } from '../router.js';
import { formatDate, formatSize, rangeText, scopeLabel } from '../format.js';

/** The line tag that selects each version ("1.29.x" for 1.29.4). */
function tagsByVersion(pack: PackDetail): Map<string, string> {
  return new Map(Object.entries(pack.tags).map(([tag, v]) => [v, tag]));
}

export function PackPage(props: { registry: string; name: string; version: string | null; signedIn: boolean }) {
  const { registry, name } = props;
  const detail = useLoad((signal) => packDetail(registry, name, signal), [registry, name, props.signedIn]);

  useEffect(() => {
    document.title = `${name} - Packyard catalog`;
  }, [name]);

  if (detail.kind === 'loading') return <p class="muted">Loading {name}...</p>;
  if (detail.kind === 'error') return <ErrorBox error={detail.error} />;
  const pack = detail.value;
  const chosen = props.version ?? pack.latest ?? pack.versions.at(-1)?.version ?? null;
  if (chosen === null) {
    return (
      <div class="empty">
        <h1>{pack.displayName}</h1>
        <p class="muted">No version of this pack is published.</p>
      </div>
    );
  }
  return <PackView pack={pack} version={chosen} signedIn={props.signedIn} />;
}

function PackView({ pack, version, signedIn }: { pack: PackDetail; version: string; signedIn: boolean }) {
  const record = useLoad(
    (signal) => versionRecord(pack.registry, pack.name, version, signal),
    [pack.registry, pack.name, version, signedIn],
  );
  const registries = useLoad((signal) => listRegistries(signal), [signedIn]);
  const downloads = useLoad((signal) => packDownloads(pack.registry, pack.name, signal), [pack, signedIn]);
  const current = pack.versions.find((v) => v.version === version);
  const tagOf = tagsByVersion(pack);
  const manifest = record.kind === 'done' ? record.value.manifest : null;
  const annotations = (manifest as { annotations?: Record<string, unknown> } | null)?.annotations ?? {};

  return (
    <article class="pack" aria-labelledby="pack-title">
      <header class="pack-head">
        <PackLogo registry={pack.registry} name={pack.name} version={version} />
        <div>
          <h1 id="pack-title">
            {pack.displayName} <span class="version">{version}</span>
          </h1>
          <p class="card-name">
            {pack.registry}/{pack.name}
          </p>
          <PackBadges
            layer={pack.layer}
            addonType={pack.addonType}
            cloudTypes={current?.cloudTypes ?? pack.cloudTypes}
          />
          <Annotations annotations={annotations} />
        </div>
        <label class="version-select">
          Version
          <select
            aria-label="Version"
            value={version}
            onChange={(event) =>
              navigate(packHref(pack.registry, pack.name, event.currentTarget.value), { replace: true })
            }
          >
            {[...pack.versions].reverse().map((v) => (
              <option key={v.version} value={v.version}>
                {v.version}
                {tagOf.has(v.version) ? ` (${tagOf.get(v.version)})` : ''}
                {v.version === pack.latest ? ' - latest' : ''}
                {v.deprecated !== null ? ' - deprecated' : ''}
              </option>
            ))}
          </select>
        </label>
      </header>
      {current?.deprecated && (
        <p class="deprecated" role="note">
          <strong>Deprecated:</strong> {current.deprecated}
        </p>
      )}
      {Object.keys(pack.tags).length > 0 && (
        <p class="tags">
          Line tags:{' '}
          {Object.entries(pack.tags).map(([tag, v]) => (
            <a key={tag} class="tag" href={packHref(pack.registry, pack.name, v)}>
              {tag} &rarr; {v}
            </a>
          ))}
        </p>
      )}
      {record.kind === 'loading' && <p class="muted">Loading version {version}...</p>}
      {record.kind === 'error' && <ErrorBox error={record.error} />}
      {record.kind === 'done' && (
        <VersionView
          pack={pack}
          record={record.value}
          registry={registries.kind === 'done' ? registries.value.find((r) => r.name === pack.registry) : undefined}
          downloads={downloads.kind === 'done' ? downloads.value : null}
        />
      )}
    </article>
  );
}

function Annotations({ annotations }: { annotations: Record<string, unknown> }) {
  const text = (key: string) => (typeof annotations[key] === 'string' ? annotations[key] : null);
  const docs = text('docsURL');
  const docsSafe = docs !== null && /^https?:\/\//i.test(docs);
  const source = text('source');
  const contributor = text('contributor');
  if (!source && !contributor && !docsSafe) return null;
  return (
    <p class="annotations">
      {source && <span>Source: {source}</span>}
      {contributor && <span>Contributor: {contributor}</span>}
      {docsSafe && docs && (
        <a href={docs} rel="noopener noreferrer nofollow" target="_blank">
          Documentation
        </a>
      )}
    </p>
  );
}

type Tab = 'readme' | 'values' | 'presets' | 'schema' | 'files' | 'constraints' | 'usage' | 'versions';

function VersionView(props: {
  pack: PackDetail;
  record: VersionRecord;
  registry: Registry | undefined;
  downloads: Record<string, number> | null;
}) {
  const { pack, record, registry, downloads } = props;
  const [tab, setTab] = useState<Tab>('readme');
  const has = (file: string) => record.files.some((f) => f.path === file);
  const tabs: Array<[Tab, string]> = [
    ['readme', 'README'],
    ['values', 'values.yaml'],
    ...(has('presets.yaml') ? ([['presets', 'Presets']] as Array<[Tab, string]>) : []),
    ...(has('schema.yaml') ? ([['schema', 'Value schema']] as Array<[Tab, string]>) : []),
    ['files', `Files (${record.files.length})`],
    ['constraints', 'Constraints'],
    ['usage', 'Used by'],
    ['versions', `Versions (${pack.versions.length})`],
  ];
  const pull = `packctl pull ${record.name}@${record.version}${record.registry === 'public' ? '' : ` --registry ${record.registry}`}`;
  const profileSnippet = `registries: [${record.registry}]\npacks:\n  - name: ${record.name}\n    version: ${record.version}\n`;
  const oci = registry ? ociReference(window.location.host, registry, record.name, record.version) : null;

  return (
    <>
      <dl class="facts">
        <dt>Digest</dt>
        <dd>
          <code data-testid="digest">{record.digest}</code>
        </dd>
        <dt>Size</dt>
        <dd>{formatSize(record.size)}</dd>
        <dt>Published</dt>
        <dd>
          {formatDate(record.publishedAt)} by {record.publisher}
        </dd>
        <dt>Downloads</dt>
        <dd data-testid="downloads">
          {downloads === null ? '...' : (downloads[record.version] ?? 0).toLocaleString()}
        </dd>
      </dl>
      <div class="copies">
        <CopyButton label="packctl pull" text={pull} />
        <CopyButton label="Cluster profile YAML" text={profileSnippet} />
        {oci && <CopyButton label="OCI reference" text={oci} />}
      </div>
      <div class="tabs" role="tablist" aria-label="Version contents">
        {tabs.map(([id, label]) => (
          <button
            key={id}
            type="button"
            role="tab"
            id={`tab-${id}`}
            aria-selected={tab === id}
            aria-controls={`panel-${id}`}
            tabIndex={tab === id ? 0 : -1}
            onClick={() => setTab(id)}
            onKeyDown={(event) => {
              const at = tabs.findIndex(([t]) => t === tab);
              const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
              if (step === 0) return;
              const next = tabs[(at + step + tabs.length) % tabs.length];
              if (!next) return;
              setTab(next[0]);
              document.getElementById(`tab-${next[0]}`)?.focus();
            }}
          >
            {label}
          </button>
        ))}
      </div>
      <section class="panel" role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === 'readme' && <Readme record={record} />}
        {tab === 'values' && <Values record={record} />}
        {tab === 'presets' && <TextFile record={record} file="presets.yaml" />}
        {tab === 'schema' && <TextFile record={record} file="schema.yaml" />}
        {tab === 'files' && <Files record={record} />}
        {tab === 'constraints' && <Constraints record={record} />}
        {tab === 'usage' && <Usage record={record} />}
        {tab === 'versions' && <Versions pack={pack} current={record.version} downloads={downloads} />}
      </section>
    </>
  );
}

function Readme({ record }: { record: VersionRecord }) {
  const { registry, name, version } = record;
  const html = useLoad(
    async (signal) => {
      const [text, markdown] = await Promise.all([packText(record, 'README.md', signal), import('../markdown.js')]);
      return text === null ? null : markdown.renderReadme(text, (path) => filePath(record, path));
    },
    [registry, name, version],
  );
  const box = useRef<HTMLDivElement>(null);

  // Images of the pack itself are fetched with the visitor's token and shown from object URLs.
  useEffect(() => {
    const root = box.current;
    if (!root || html.kind !== 'done') return;
    const controller = new AbortController();
    const made: string[] = [];
    for (const img of root.querySelectorAll<HTMLImageElement>('img[data-pack-src]')) {
      const path = img.dataset['packSrc'];
      if (!path) continue;
      packImage(record, path, controller.signal).then(
        (url) => {
          if (!url) return;
          made.push(url);
          img.src = url;
        },
        () => undefined,
      );
    }
    return () => {
      controller.abort();
      for (const url of made) URL.revokeObjectURL(url);
    };
  }, [html]);

  if (html.kind === 'loading') return <p class="muted">Loading the README...</p>;
  if (html.kind === 'error') return <ErrorBox error={html.error} />;
  if (html.value === null) return <p class="muted">This version has no README.md.</p>;
  // The HTML comes from markdown.ts: raw HTML in the README is escaped, links and images vetted.
  return <div class="readme" ref={box} dangerouslySetInnerHTML={{ __html: html.value }} />;
}

function TextFile({ record, file }: { record: VersionRecord; file: string }) {
  const text = useLoad(
    (signal) => packText(record, file, signal),
    [record.registry, record.name, record.version, file],
  );
  if (text.kind === 'loading') return <p class="muted">Loading {file}...</p>;
  if (text.kind === 'error') return <ErrorBox error={text.error} />;
  if (text.value === null) return <p class="muted">This version has no {file}.</p>;
  return <YamlView text={text.value} label={file} />;
}

function Values({ record }: { record: VersionRecord }) {
  const content = (record.manifest as { content?: { images?: unknown } }).content;
  const images = Array.isArray(content?.images)
    ? content.images.flatMap((image: unknown) => {
        const ref = typeof image === 'string' ? image : (image as { image?: unknown } | null)?.image;
        return typeof ref === 'string' ? [ref] : [];
      })
    : [];
  return (
    <>
      {images.length > 0 && (
        <section class="images">
          <h2>Images</h2>
          <ul>
            {images.map((image) => (
              <li key={image}>
                <code>{image}</code>
              </li>
            ))}
          </ul>
        </section>
      )}
      <TextFile record={record} file="values.yaml" />
    </>
  );
}

function Files({ record }: { record: VersionRecord }) {
  return (
    <table class="files">
      <thead>
        <tr>
          <th scope="col">Path</th>
          <th scope="col">Size</th>
        </tr>
      </thead>
      <tbody>
        {record.files.map((file) => (
          <tr key={file.path}>
            <td>
              <code>{file.path}</code>
            </td>
            <td>{formatSize(file.size)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const DEPENDENCY_KINDS: Record<string, string> = {
  required: 'Requires',
  optional: 'Works with',
  notSupported: 'Not supported with',
  upgrade: 'Upgrades from',
};

/**
 * A link to a pack a constraint names (by name only): in this pack's registry when it is there,
 * else in the first registry the visitor may read that has it; plain text when none has.
 */
function DependencyLink({ registry, name }: { registry: string; name: string }) {
  const rows = useLoad((signal) => packsNamed(name, signal), [name]);
  if (rows.kind !== 'done') return <span>{name}</span>;
  const row = rows.value.find((r) => r.registry === registry) ?? rows.value[0];
  if (!row) return <span title="in no registry you may read">{name}</span>;
  return <a href={packHref(row.registry, row.name)}>{name}</a>;
}

/** Palette's units for a resource constraint's minLimit. */
const RESOURCE_UNITS: Record<string, string> = { cpu: ' CPU', memory: ' MiB', diskSize: ' GB' };

function Constraints({ record }: { record: VersionRecord }) {
  const dependencies = record.manifest.constraints?.dependencies ?? [];
  const resources = (record.manifest.constraints as { resources?: unknown } | undefined)?.resources;
  if (dependencies.length === 0 && !Array.isArray(resources)) {
    return <p class="muted">This version names no constraints.</p>;
  }
  return (
    <>
      {dependencies.length > 0 && (
        <ul class="constraints">
          {dependencies.map((dep) => {
            const range = rangeText(dep.minVersion, dep.maxVersion);
            return (
              <li key={`${dep.type ?? 'untyped'}-${dep.packName}`}>
                {dep.type === undefined ? 'Names (not checked)' : (DEPENDENCY_KINDS[dep.type] ?? dep.type)}{' '}
                <DependencyLink registry={record.registry} name={dep.packName} /> ({dep.layer})
                {range && <span class="muted"> {range}</span>}
              </li>
            );
          })}
        </ul>
      )}
      {Array.isArray(resources) && (
        <table class="files">
          <caption>Resource minimums</caption>
          <thead>
            <tr>
              <th scope="col">Resource</th>
              <th scope="col">At least</th>
              <th scope="col">On</th>
            </tr>
          </thead>
          <tbody>
            {resources.map((resource: unknown, index) => {
              const { type, minLimit, components } = (resource ?? {}) as {
                type?: unknown;
                minLimit?: unknown;
                components?: unknown;
              };
              const on = Array.isArray(components)
                ? components.flatMap((c: unknown) => {
                    const where = (c as { scheduleType?: unknown } | null)?.scheduleType;
                    return typeof where === 'string' ? [where] : [];
                  })
                : [];
              return (
                <tr key={index}>
                  <td>{typeof type === 'string' ? type : '-'}</td>
                  <td>
                    {typeof minLimit === 'number'
                      ? `${minLimit.toLocaleString()}${typeof type === 'string' ? (RESOURCE_UNITS[type] ?? '') : ''}`
                      : '-'}
                  </td>
                  <td>{on.length > 0 ? on.join(', ') : 'all nodes'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </>
  );
}

function Usage({ record }: { record: VersionRecord }) {
  const usage = useLoad((signal) => packUsage(record, signal), [record.registry, record.name, record.version]);
  if (usage.kind === 'loading') return <p class="muted">Looking for profiles and packs that use {record.version}...</p>;
  if (usage.kind === 'error') return <ErrorBox error={usage.error} />;
  const { profiles, dependents } = usage.value;
  return (
    <div class="usage">
      <section aria-labelledby="used-by-profiles">
        <h2 id="used-by-profiles">Cluster profiles selecting {record.version}</h2>
        {profiles.length === 0 ? (
          <p class="muted">No cluster profile you may read selects this version.</p>
        ) : (
          <ul data-testid="using-profiles">
            {profiles.map((profile) => {
              const where = profileScopeRef(profile);
              return (
                <li key={profilePagePath(where, profile.name)}>
                  <a href={profilePagePath(where, profile.name)}>{profile.name}</a>{' '}
                  <span class="muted">
                    {profile.version}, {scopeLabel(where).toLowerCase()}, selects {profile.selector}
                  </span>
                </li>
              );
            })}
          </ul>
        )}
      </section>
      <section aria-labelledby="used-by-packs">
        <h2 id="used-by-packs">Packs whose constraints name {record.name}</h2>
        {dependents.length === 0 ? (
          <p class="muted">No pack you may read names {record.name} in its constraints.</p>
        ) : (
          <ul data-testid="dependents">
            {dependents.map((dep) => {
              const range = rangeText(dep.minVersion, dep.maxVersion);
              return (
                <li key={`${dep.registry}/${dep.name}`}>
                  <a href={packHref(dep.registry, dep.name, dep.version)}>
                    {dep.displayName} {dep.version}
                  </a>{' '}
                  <span class="muted">
                    ({dep.registry}){' '}
                    {dep.type === null ? 'names' : (DEPENDENCY_KINDS[dep.type] ?? dep.type).toLowerCase()} {record.name}
                    {range && ` ${range}`}
                  </span>
                  {!dep.includes && <span class="out-of-range"> - {record.version} is outside this range</span>}
                </li>
              );
            })}
          </ul>
        )}
      </section>
    </div>
  );
}

function Versions(props: { pack: PackDetail; current: string; downloads: Record<string, number> | null }) {
  const { pack, current, downloads } = props;
  const tagOf = tagsByVersion(pack);
  return (
    <table class="files">
      <thead>
        <tr>
          <th scope="col">Version</th>
          <th scope="col">Published</th>
          <th scope="col">Size</th>
          <th scope="col">Downloads</th>
          <th scope="col">Status</th>
        </tr>
      </thead>
      <tbody>
        {[...pack.versions].reverse().map((v) => (
          <tr key={v.version} aria-current={v.version === current ? 'true' : undefined}>
            <td>
              <a href={packHref(pack.registry, pack.name, v.version)}>{v.version}</a>
              {tagOf.has(v.version) && <span class="muted"> ({tagOf.get(v.version)})</span>}
            </td>
            <td>
              {formatDate(v.publishedAt)} by {v.publisher}
            </td>
            <td>{formatSize(v.size)}</td>
            <td>{downloads === null ? '...' : (downloads[v.version] ?? 0).toLocaleString()}</td>
            <td>
              {v.deprecated === null ? (v.version === pack.latest ? 'latest' : '') : `deprecated: ${v.deprecated}`}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
