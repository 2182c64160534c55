/**
 * The cluster profiles the visitor may read, by scope: the system's (the platform's catalogue),
 * then their tenant's and their projects'. Profiles need a signed-in visitor.
 */
import { useEffect } from 'preact/hooks';
import { listProfiles, type Me, type ProfileEntry } from '../api.js';
import { ErrorBox } from '../components/error-box.js';
import { useLoad } from '../hooks/use-load.js';
import { describeProfile, scopeLabel } from '../format.js';
import { profilePagePath } from '../router.js';

export function ProfilesPage({ me }: { me: Me | null }) {
  useEffect(() => {
    document.title = 'Cluster profiles - Packyard catalog';
  }, []);
  if (me === null) {
    return (
      <div class="empty">
        <h1>Cluster profiles</h1>
        <p class="muted">
          Cluster profiles belong to the platform, tenants and projects:{' '}
          <a href={`/signin?next=${encodeURIComponent('/profiles')}`}>sign in</a> to see those you may read.
        </p>
      </div>
    );
  }
  return <ProfileList me={me} />;
}

function ProfileList({ me }: { me: Me }) {
  const profiles = useLoad((signal) => listProfiles(me, signal), [me]);
  if (profiles.kind === 'loading') return <p class="muted">Loading cluster profiles...</p>;
  if (profiles.kind === 'error') return <ErrorBox error={profiles.error} />;
  const groups = new Map<string, ProfileEntry[]>();
  for (const entry of profiles.value) {
    const label = scopeLabel(entry.where);
    groups.set(label, [...(groups.get(label) ?? []), entry]);
  }
  return (
    <div class="profiles">
      <h1>Cluster profiles</h1>
      {groups.size === 0 && <p class="muted">No cluster profile is visible to you yet.</p>}
      {[...groups].map(([label, entries]) => (
        <section key={label} aria-labelledby={`scope-${label}`}>
          <h2 id={`scope-${label}`}>{label}</h2>
          <ul class="cards">
            {entries.map(({ where, view }) => (
              <li class="card" key={view.name}>
                <a href={profilePagePath(where, view.name)}>
                  <span class="card-text">
                    <span class="card-title">
                      {view.name} <span class="version">{view.version}</span>
                    </span>
                    <span class="card-desc">
                      {describeProfile(view.profile)} &middot; updated {new Date(view.updatedAt).toLocaleDateString()}{' '}
                      by {view.updatedBy}
                    </span>
                  </span>
                </a>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </div>
  );
}
