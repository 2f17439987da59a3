#!/usr/bin/env bash
# bootstrap.sh -- one command from a fresh Debian machine to a running mlflowd or a passing test suite.
#
#   scripts/bootstrap.sh run    install packages, build, start the main job
#   scripts/bootstrap.sh test   install packages, build, run the whole suite (normal, ASan+UBSan, distcheck)
#   scripts/bootstrap.sh deps   install the Debian packages only (idempotent)
#   scripts/bootstrap.sh build  install packages and build into ./build
#
# Builds are out of tree (./build, ./build-asan) so the source tree stays clean for `make distcheck`.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
# mlflowd refuses plugin files and folders writable by group or others: build them with the usual umask
umask 022
jobs=$(nproc 2>/dev/null || echo 2)

# Everything the build, the plugins and the tests need, by Debian package name.
packages=(
    build-essential autoconf automake libtool pkg-config
    libltdl-dev libzmq3-dev libmsgpack-dev liblmdb-dev libyaml-dev libjansson-dev
    libcurl4-openssl-dev libmicrohttpd-dev libsodium-dev libsqlite3-dev
    check clang python3 procps tzdata
    chromium python3-websocket python3-prometheus-client
)

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "bootstrap: need root (or sudo) to install packages: ${packages[*]}" >&2; exit 2; fi
}

deps() {
    local missing=()
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        echo "bootstrap: all ${#packages[@]} packages already installed"
        return
    fi
    echo "bootstrap: installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

configure_in() { # DIR [configure flags...]
    local dir=$1; shift
    [ -x configure ] && [ configure -nt configure.ac ] && [ configure -nt Makefile.am ] || autoreconf -fi
    mkdir -p "$dir"
    if [ ! -f "$dir/Makefile" ] || [ "$dir/config.status" -ot configure ]; then
        (cd "$dir" && ../configure "$@")
    fi
}

build() {
    configure_in build --enable-werror
    make -C build -j"$jobs"
}

# Sums what the test programs report: Check's "Checks: N, Failures: F, Errors: E" line for unit tests,
# the harness's PASS/FAIL for every other test. Prints "N passed, N failed".
count_results() { # DIR...
    local passed=0 failed=0
    for dir in "$@"; do
        while IFS= read -r trs; do
            local log=${trs%.trs}.log res
            res=$(sed -n 's/^:test-result: //p' "$trs" | head -1)
            local line
            line=$(grep -Eo 'Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log" 2>/dev/null | tail -1 || true)
            if [ -n "$line" ]; then
                local c f e
                read -r c f e <<<"$(echo "$line" | grep -Eo '[0-9]+' | tr '\n' ' ')"
                passed=$((passed + c - f - e)); failed=$((failed + f + e))
                [ "$res" = PASS ] || [ "$res" = SKIP ] || [ $((f + e)) -gt 0 ] || failed=$((failed + 1))
            else
                case "$res" in PASS|XFAIL|SKIP) passed=$((passed + 1));; *) failed=$((failed + 1));; esac
            fi
        done < <(find "$dir" -name '*.trs' 2>/dev/null)
    done
    echo "$passed passed, $failed failed"
}

run_tests() {
    local status=0
    build
    echo "bootstrap: === unit and integration tests ==="
    make -C build -j"$jobs" check || status=1
    echo "bootstrap: === the same suite under AddressSanitizer + UndefinedBehaviorSanitizer ==="
    configure_in build-asan --enable-werror --enable-sanitizers
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        make -C build-asan -j"$jobs" check || status=1
    echo "bootstrap: === make distcheck ==="
    make -C build -j"$jobs" distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror >build/distcheck.out 2>&1 \
        || { tail -50 build/distcheck.out; echo "bootstrap: distcheck failed"; status=1; }
    [ $status -eq 0 ] || for f in $(grep -l -E '^:test-result: (FAIL|ERROR)' build/tests/*/*.trs build-asan/tests/*/*.trs 2>/dev/null); do
        echo "---- ${f%.trs}.log"; tail -40 "${f%.trs}.log"; done
    count_results build/tests build-asan/tests
    return $status
}

case "${1:-}" in
deps) deps ;;
build) deps; build ;;
run)
    deps; build
    echo "bootstrap: starting mlflowd standalone on the bundled example DAGs (Ctrl-C stops it)"
    exec sh "$here/examples/standalone.sh"
    ;;
test) deps; run_tests ;;
*) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
