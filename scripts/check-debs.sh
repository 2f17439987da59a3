#!/bin/sh
# check-debs.sh DIR -- uses the Debian packages built into DIR (mlflowd_*.deb, mlflowd-dev_*.deb) as a user
# would, from a temporary root (dpkg -x: nothing is installed on this machine): `mlflowd version`, the
# built-in plugins found relative to the installed binary, an example DAG run, the man pages, and the
# hello plugin built against the installed SDK (pkg-config with PKG_CONFIG_SYSROOT_DIR) and loaded beside
# the built-in plugins. Exits non-zero at the first problem. Called by scripts/bootstrap.sh test.
set -eu
dir=$(cd "$1" && pwd)
root=$(mktemp -d /tmp/mlflowd-debroot-XXXXXX)
trap 'rm -rf "$root"' EXIT
umask 022
fail() { echo "check-debs: FAIL: $*" >&2; exit 1; }
for p in mlflowd mlflowd-dev; do
    deb=$(ls "$dir"/${p}_*.deb 2>/dev/null | head -1)
    [ -n "$deb" ] || fail "no ${p}_*.deb in $dir"
    dpkg -x "$deb" "$root"
done
m="$root/usr/bin/mlflowd"
export MLFLOWD_HOME="$root/home"
unset MLFLOWD_CONFIG MLFLOWD_DAGS_FOLDER MLFLOWD__PLUGINS__PATH || true

"$m" version || fail "mlflowd version"
"$m" plugins list -o json >"$root/plugins.json" || fail "plugins list: $(cat "$root/plugins.json")"
python3 - "$root" "$root/plugins.json" <<'PY' || fail "the installed plugins are not the package's"
import json, sys
root, plugins = sys.argv[1], json.load(open(sys.argv[2]))
names = {p["name"] for p in plugins}
assert {"shell", "python", "sqlite", "http", "empty"} <= names, names
assert all(p["file"].startswith(root + "/usr/lib/") and p["file"].endswith(".so") for p in plugins), plugins
PY
examples="$root/usr/share/doc/mlflowd/examples/dags"
"$m" --dags-folder "$examples" dags list || fail "dags list of the packaged examples"
"$m" --dags-folder "$examples" dags test example_etl 2024-01-01 -o json >"$root/run.json" \
    || fail "example_etl did not succeed: $(cat "$root/run.json")"
"$m" --dags-folder "$examples" dags test example_manual 2024-01-01 >/dev/null || fail "example_manual"
for page in man1/mlflowd.1.gz man5/mlflowd.yaml.5.gz; do
    [ -s "$root/usr/share/man/$page" ] || fail "no $page"
done
[ -s "$root/lib/systemd/system/mlflowd-scheduler.service" ] || fail "no scheduler unit"
grep -q "^ExecStart=/usr/bin/mlflowd scheduler$" "$root/lib/systemd/system/mlflowd-scheduler.service" || fail "unit ExecStart"

# the hello plugin, out of tree, against the installed SDK
cp -R "$root/usr/share/doc/mlflowd-dev/examples/hello-plugin" "$root/hello"
pc=$(find "$root/usr/lib" -name mlflowd-plugin.pc | head -1)
[ -n "$pc" ] || fail "no mlflowd-plugin.pc"
PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR="$root" make -C "$root/hello" CFLAGS="-O2 -Wall -Wextra -Werror" \
    >"$root/hello.log" 2>&1 || fail "hello plugin build: $(cat "$root/hello.log")"
chmod -R go-w "$root/hello"
MLFLOWD__PLUGINS__PATH="$root/hello,{plugindir}" "$m" plugins list -o json >"$root/plugins2.json" \
    || fail "plugins list with hello: $(cat "$root/plugins2.json")"
python3 -c 'import json,sys; n={p["name"] for p in json.load(open(sys.argv[1]))}; sys.exit(0 if {"hello","shell"} <= n else 1)' \
    "$root/plugins2.json" || fail "hello is not loaded beside the built-in plugins"
echo "check-debs: the packages install, run the example DAGs and build the hello plugin against the SDK"
