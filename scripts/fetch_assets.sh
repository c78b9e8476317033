#!/usr/bin/env bash
# Re-fetch the console's vendored assets from npm and check them against VERSIONS.txt.
#
#   scripts/fetch_assets.sh           fetch each package, verify its sha256, (re)write the file
#   scripts/fetch_assets.sh --check   verify the committed files only (no network)
#
# To move to a new version, edit its line in VERSIONS.txt (version, file name, sha256 of the
# new dist file) and run this script; a sha256 that does not match stops it without writing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
vendor="$root/src/orderhub/web/static/vendor"
versions="$vendor/VERSIONS.txt"
mode="${1:-fetch}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

status=0
while read -r name version file sha256 inner; do
    case "$name" in ''|'#'*) continue ;; esac
    target="$vendor/$file"
    if [[ "$mode" == "--check" ]]; then
        actual="$(sha256sum "$target" | cut -d' ' -f1)"
        if [[ "$actual" == "$sha256" ]]; then
            echo "ok       $file"
        else
            echo "MISMATCH $file: sha256 $actual, VERSIONS.txt says $sha256" >&2
            status=1
        fi
        continue
    fi
    # npm pack checks the tarball against the registry's integrity hash.
    tarball="$work/$(cd "$work" && npm pack --silent "$name@$version" | tail -n1)"
    mkdir -p "$work/$name"
    tar -xzf "$tarball" -C "$work/$name"
    actual="$(sha256sum "$work/$name/$inner" | cut -d' ' -f1)"
    if [[ "$actual" != "$sha256" ]]; then
        echo "MISMATCH $name@$version $inner: sha256 $actual, VERSIONS.txt says $sha256" >&2
        status=1
        continue
    fi
    cp "$work/$name/$inner" "$target"
    echo "fetched  $file ($name@$version, sha256 ok)"
done <"$versions"
exit "$status"
