// A package-lock.json for a temporary consumer project, cut from the repository's own lockfile, so that
// `npm ci --offline` installs the packed tarball and its dependencies from the npm cache the
// repository's `npm ci` filled. Every entry gets its registry tarball URL: without one npm asks the
// registry for package metadata, which an offline install cannot do.

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [field: string]: unknown;
}

export interface Lockfile {
  name?: string;
  lockfileVersion: number;
  requires?: boolean;
  packages: Record<string, LockEntry>;
}

export interface PackedManifest {
  readonly name: string;
  readonly version: string;
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

export interface ConsumerSpec {
  /** The package under test: its manifest, its spec (a `file:` tarball or a git URL) and, for a tarball, its integrity. */
  readonly packed: { readonly manifest: PackedManifest; readonly spec: string; readonly integrity?: string };
  /** Further direct dependencies, by name, at the version the repository's lockfile holds. */
  readonly alsoInstall: readonly string[];
  readonly registry: string;
}

/** The location a dependency `name` of the package at `from` resolves to, as Node's lookup walks up. */
function resolveFrom(packages: Record<string, LockEntry>, from: string, name: string): string | null {
  let base = from;
  for (;;) {
    const candidate = base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (base === '') return null;
    const parent = base.lastIndexOf('/node_modules/');
    base = parent < 0 ? '' : base.slice(0, parent);
  }
}

function tarballUrl(registry: string, location: string, version: string): string {
  const name = location.slice(location.lastIndexOf('node_modules/') + 'node_modules/'.length);
  const base = name.slice(name.lastIndexOf('/') + 1);
  return `${registry.replace(/\/?$/, '/')}${name}/-/${base}-${version}.tgz`;
}

/** The consumer's package.json and lockfile; optional packages (only reached through optional edges) are flagged so --omit=optional drops them. */
export function consumerProject(repoLock: Lockfile, spec: ConsumerSpec): { packageJson: object; lock: Lockfile } {
  const repo = repoLock.packages;
  const { manifest } = spec.packed;
  const direct: Record<string, string> = { [manifest.name]: spec.packed.spec };
  for (const name of spec.alsoInstall) {
    const version = repo[`node_modules/${name}`]?.version;
    if (!version) throw new Error(`${name} is not in the repository's lockfile`);
    direct[name] = version;
  }
  const packedLocation = `node_modules/${manifest.name}`;
  const entries: Record<string, LockEntry> = {
    [packedLocation]: {
      version: manifest.version,
      resolved: spec.packed.spec,
      ...(spec.packed.integrity === undefined ? {} : { integrity: spec.packed.integrity }),
      ...(manifest.dependencies ? { dependencies: manifest.dependencies } : {}),
      ...(manifest.optionalDependencies ? { optionalDependencies: manifest.optionalDependencies } : {}),
      ...(manifest.peerDependencies ? { peerDependencies: manifest.peerDependencies } : {}),
      ...(manifest.peerDependenciesMeta ? { peerDependenciesMeta: manifest.peerDependenciesMeta } : {}),
    },
  };
  // A package first reached through an optional edge is visited again when a required edge reaches it,
  // so the flags settle whatever the order of the walk.
  const required = new Set<string>();
  const reached = new Set<string>();
  const queue: { location: string; optional: boolean }[] = [];
  const visit = (location: string, optional: boolean): void => {
    if (optional ? reached.has(location) : required.has(location)) return;
    reached.add(location);
    if (!optional) required.add(location);
    queue.push({ location, optional });
  };
  visit(packedLocation, false);
  for (const name of spec.alsoInstall) visit(`node_modules/${name}`, false);
  while (queue.length > 0) {
    const { location, optional } = queue.shift()!;
    const entry = entries[location] ?? repo[location];
    if (!entry) throw new Error(`no lockfile entry at ${location}`);
    const edges: [string, boolean][] = [
      ...Object.keys(entry.dependencies ?? {}).map((n): [string, boolean] => [n, false]),
      ...Object.keys(entry.optionalDependencies ?? {}).map((n): [string, boolean] => [n, true]),
      ...Object.keys(entry.peerDependencies ?? {})
        .filter((n) => !entry.peerDependenciesMeta?.[n]?.optional)
        .map((n): [string, boolean] => [n, false]),
    ];
    for (const [name, optionalEdge] of edges) {
      // The packed package's dependencies sit where the repository's root put them.
      const target = resolveFrom(repo, location === packedLocation ? '' : location, name);
      if (target === null) {
        if (optionalEdge) continue;
        throw new Error(`${location} needs ${name}, which the repository's lockfile lacks`);
      }
      visit(target, optional || optionalEdge);
    }
  }
  const packages: Record<string, LockEntry> = { '': { name: 'consumer', dependencies: direct } };
  for (const location of [...reached].sort()) {
    if (location === packedLocation) {
      packages[location] = entries[location]!;
      continue;
    }
    const { dev: _dev, optional: _optional, peer: _peer, devOptional: _devOptional, ...entry } = repo[location]!;
    packages[location] = {
      ...entry,
      resolved: tarballUrl(spec.registry, location, entry.version!),
      ...(required.has(location) ? {} : { optional: true }),
    };
  }
  return {
    packageJson: { name: 'consumer', private: true, type: 'module', dependencies: direct },
    lock: { name: 'consumer', lockfileVersion: 3, requires: true, packages },
  };
}
