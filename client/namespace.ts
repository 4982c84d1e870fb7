/**
 * Canonical namespace names, per ecosystem: one project, one namespace.
 * Registries compare these names case- (and for PyPI separator-) insensitively,
 * so a ledger that took `npm:@ACME` and `npm:@acme` as two namespaces would let
 * a second set of keys speak for the same packages. Non-canonical names are
 * refused (code `non_canonical_namespace`), never silently rewritten: what is
 * signed is what is logged.
 */

/** Each known ecosystem's canonical form of the part after `<ecosystem>:`. */
const CANONICAL: Record<string, (name: string) => string> = {
  // npm: package names and scopes are lowercase (new packages cannot have capitals).
  npm: (n) => n.toLowerCase(),
  // PyPI: PEP 503 normalization, runs of "-", "_" and "." become "-", lowercase.
  pypi: (n) => n.replace(/[-_.]+/g, "-").toLowerCase(),
  // Composer (Packagist): vendor and package names are lowercase.
  composer: (n) => n.toLowerCase(),
};

/** The canonical form of a namespace (`<ecosystem>:<name>`); other ecosystems are taken as written. */
export function canonicalNamespace(namespace: string): string {
  const cut = namespace.indexOf(":");
  if (cut < 0) return namespace;
  const eco = namespace.slice(0, cut);
  const canon = Object.hasOwn(CANONICAL, eco) ? CANONICAL[eco]! : undefined;
  return canon ? `${eco}:${canon(namespace.slice(cut + 1))}` : namespace;
}

export function isCanonicalNamespace(namespace: string): boolean {
  return canonicalNamespace(namespace) === namespace;
}

/** The namespace of an npm package: `npm:@scope` for a scoped package, `npm:<name>` otherwise (canonical: lowercase). */
export function npmNamespace(packageName: string): string {
  const cut = packageName.indexOf("/");
  return canonicalNamespace(`npm:${packageName.startsWith("@") && cut > 0 ? packageName.slice(0, cut) : packageName}`);
}
