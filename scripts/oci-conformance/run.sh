#!/usr/bin/env bash
# A copy of the workplace tool ../shared/tools/oci-conformance/run.sh with its sources (src/: the
# suite and its client, each with its Apache-2.0 LICENSE), kept in the repository so that CI on a
# clean clone runs the same conformance suite (test/oci-conformance.test.ts). Unchanged.
# The OCI Distribution Specification conformance suite (opencontainers/distribution-spec v1.0.1,
# conformance/, Apache-2.0; its client library bloodorangeio/reggie v0.5.0, Apache-2.0), built
# offline from these sources plus Debian's Go packages, and run against a registry.
#
# Usage: run.sh URL [NAMESPACE]
#   URL        the registry root, e.g. http://127.0.0.1:5080 (the suite calls URL/v2/...)
#   NAMESPACE  the repository to test, default packyard/conformance; a second repository,
#              NAMESPACE-mount, is used for cross-repository mounts
# Environment passed through to the suite: OCI_USERNAME, OCI_PASSWORD (basic auth; the suite's
# client follows WWW-Authenticate Bearer challenges), OCI_DEBUG=1, and OCI_TEST_PULL / PUSH /
# CONTENT_DISCOVERY / CONTENT_MANAGEMENT (all four default to 1 here), OCI_REPORT_DIR (default: a
# temporary directory; report.html and junit.xml go there).
# Prints the suite's own output, then one line: 'oci-conformance: N passed, N failed, N skipped'.
# Exit status: 0 when nothing failed, 1 when a spec failed, 2 when the suite could not be built/run.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
url=${1:?usage: run.sh URL [NAMESPACE]}
ns=${2:-packyard/conformance}

debs=(golang-go golang-github-onsi-ginkgo-dev golang-gomega-dev golang-github-google-uuid-dev
  golang-github-go-resty-resty-dev golang-github-opencontainers-go-digest-dev
  golang-github-opencontainers-image-spec-dev golang-github-mitchellh-mapstructure-dev)
missing=()
for p in "${debs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >/dev/null 2>&1 \
    || { echo "oci-conformance: could not install the Debian Go packages" >&2; exit 2; }
fi

# Build once per source version; the binary is cached under /tmp.
key=$(cat "$here"/src/*/VERSION "$here"/src/*/*.go | sha256sum | cut -c1-12)
bin=/tmp/oci-conformance-$key/conformance.test
if [ ! -x "$bin" ]; then
  gp=$(mktemp -d /tmp/oci-conformance-gopath.XXXXXX)
  mkdir -p "$gp/src/github.com/bloodorangeio" "$gp/src/github.com/opencontainers/distribution-spec" \
    "$gp/src/github.com/go-resty/resty"
  cp -r "$here/src/reggie" "$gp/src/github.com/bloodorangeio/reggie"
  cp -r "$here/src/conformance" "$gp/src/github.com/opencontainers/distribution-spec/conformance"
  # Debian ships resty v2 without the /v2 directory that GOPATH mode looks for.
  ln -s /usr/share/gocode/src/github.com/go-resty/resty "$gp/src/github.com/go-resty/resty/v2"
  mkdir -p "$(dirname "$bin")"
  (cd "$gp/src/github.com/opencontainers/distribution-spec/conformance" &&
    GOPATH="$gp:/usr/share/gocode" GO111MODULE=off GOFLAGS= GOCACHE="$gp/cache" go test -c -o "$bin" 2>&1) \
    || { echo "oci-conformance: build failed" >&2; rm -rf "$gp"; exit 2; }
  rm -rf "$gp"
fi

report=${OCI_REPORT_DIR:-$(mktemp -d /tmp/oci-conformance-report.XXXXXX)}
out=$(mktemp)
OCI_ROOT_URL="$url" OCI_NAMESPACE="$ns" OCI_CROSSMOUNT_NAMESPACE="$ns-mount" \
  OCI_TEST_PULL=${OCI_TEST_PULL:-1} OCI_TEST_PUSH=${OCI_TEST_PUSH:-1} \
  OCI_TEST_CONTENT_DISCOVERY=${OCI_TEST_CONTENT_DISCOVERY:-1} \
  OCI_TEST_CONTENT_MANAGEMENT=${OCI_TEST_CONTENT_MANAGEMENT:-1} \
  OCI_REPORT_DIR="$report" bash -c 'cd "$1" && exec "$2"' _ "$report" "$bin" 2>&1 | tee "$out"
summary=$(sed 's/\x1b\[[0-9;]*m//g' "$out" | grep -E '[0-9]+ Passed \| [0-9]+ Failed' | tail -1)
rm -f "$out"
[ -n "$summary" ] || { echo "oci-conformance: the suite printed no summary" >&2; exit 2; }
passed=$(sed -E 's/.* ([0-9]+) Passed.*/\1/' <<<"$summary")
failed=$(sed -E 's/.* ([0-9]+) Failed.*/\1/' <<<"$summary")
skipped=$(sed -E 's/.* ([0-9]+) Skipped.*/\1/' <<<"$summary")
echo "reports: $report"
echo "oci-conformance: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
