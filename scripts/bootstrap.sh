#!/usr/bin/env bash
# bootstrap.sh -- one command from a fresh Debian machine to a running mlflowd or a passing test suite.
#
#   scripts/bootstrap.sh run    install packages, build, start the main job
#   scripts/bootstrap.sh test   install packages, build, run the whole suite (normal, ASan+UBSan, distcheck);
#                               TESTS='tests/unit/test_x tests/integration/y.sh' runs only those (no distcheck)
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
    check clang python3 procps tzdata iproute2
    podman runc busybox-static
    chromium python3-websocket python3-prometheus-client
    ninja-build
    slurm-wlm munge
    debhelper lintian
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

# Skips that CI's machine (root on Debian, with network namespaces, clang and every optional library that
# bootstrap installs) should never see, unless listed here as "TEST-PATH" entries with the reason beside them.
# Any other skip fails a CI run (CI=true): install what the test needs instead of skipping it.
ci_expected_skips=(
)

# The tests `make check` runs in build DIR, one path per line (from the Makefile's TESTS).
tests_of() { # DIR
    make -C "$1" --no-print-directory -s -f Makefile -f <(printf 'bootstrap-print-tests:\n\t@echo $(TESTS)\n') \
        bootstrap-print-tests | tr ' ' '\n' | sed '/^$/d'
}

# Removes every result of an earlier run (logs, .trs files, test-suite.log) from DIR's test folders, so that
# only this run's results can be counted.
forget_results() { # DIR
    [ -d "$1/tests" ] || return 0
    find "$1/tests" \( -name '*.trs' -o -name '*.log' \) -type f -delete
    rm -f "$1/test-suite.log"
}

# The reason a skipped test gave: its "SKIP: ..." line, or else its last line of output.
skip_reason() { # LOG
    local r
    r=$(grep -m1 -E '^SKIP:' "$1" 2>/dev/null | sed 's/^SKIP: *//') || true
    [ -n "$r" ] || r=$(grep -v -E '^(PASS|SKIP|FAIL|ERROR|XFAIL|XPASS): ' "$1" 2>/dev/null | tail -1) || true
    echo "${r:-no reason given}"
}

# Counts this run's results of every test in DIR's TESTS. Unit tests count their checks (Check's
# "Checks: N, Failures: F, Errors: E"); any other test counts one. SKIP counts as skipped (one per test, named
# in $skipped_list), never as passed; XFAIL and XPASS count as failed (the project marks no test as expected
# to fail); a test with no result (it did not run, or the build failed) counts as failed, and so does one whose
# output carries a sanitizer report. Adds to the globals n_passed, n_failed, n_skipped.
n_passed=0 n_failed=0 n_skipped=0 skipped_list="" failed_list=""
count_results() { # DIR
    local dir=$1 t base trs log res line c f e list
    # a build folder that did not configure has no TESTS of its own: it should have run the same as ./build's
    list=$(tests_of "$dir" 2>/dev/null || tests_of build 2>/dev/null) || true
    [ -z "${TESTS:-}" ] || list=$(printf '%s\n' $TESTS)
    while IFS= read -r t; do
        [ -n "$t" ] || continue
        base=$dir/${t%.sh}
        trs=$base.trs log=$base.log
        if [ ! -f "$trs" ]; then
            n_failed=$((n_failed + 1)); failed_list+="  $dir: $t: no result (it did not run)"$'\n'
            continue
        fi
        res=$(sed -n 's/^:test-result: //p' "$trs" | head -1)
        if [ "$res" = SKIP ]; then
            n_skipped=$((n_skipped + 1)); skipped_list+="  $dir: $t: $(skip_reason "$log")"$'\n'
            continue
        fi
        if grep -q -E 'ERROR: (Address|Leak)Sanitizer|: runtime error: ' "$log" 2>/dev/null; then
            [ "$res" != PASS ] || failed_list+="  $dir: $t: passed, but its output has a sanitizer report"$'\n'
            res=FAIL
        fi
        line=$(grep -Eo 'Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log" 2>/dev/null | tail -1) || true
        if [ -n "$line" ]; then
            read -r c f e <<<"$(echo "$line" | grep -Eo '[0-9]+' | tr '\n' ' ')"
            n_passed=$((n_passed + c - f - e)); n_failed=$((n_failed + f + e))
            if [ "$res" != PASS ] && [ $((f + e)) -eq 0 ]; then
                n_failed=$((n_failed + 1)); failed_list+="  $dir: $t: $res"$'\n'
            elif [ "$res" != PASS ]; then
                failed_list+="  $dir: $t: $((f + e)) of $c checks failed"$'\n'
            fi
        elif [ "$res" = PASS ]; then
            n_passed=$((n_passed + 1))
        else
            n_failed=$((n_failed + 1)); failed_list+="  $dir: $t: ${res:-no result line}"$'\n'
        fi
    done <<<"$list"
}

# `make check` in DIR after removing earlier results; ENV... (NAME=VALUE) for the tests. Returns 1 when the
# build or a test failed.
check_in() { # DIR [ENV...]
    local dir=$1; shift
    forget_results "$dir"
    if [ -n "${TESTS:-}" ]; then env "$@" make -C "$dir" -j"$jobs" check TESTS="$TESTS"
    else env "$@" make -C "$dir" -j"$jobs" check; fi
}

# Prints the skipped and failed tests, then the closing line "N passed, N failed, N skipped". On CI (CI=true)
# a skip that ci_expected_skips does not list fails the run. Returns 1 when the run failed.
summarise() { # STATUS
    local status=$1
    if [ -n "$skipped_list" ]; then
        echo "bootstrap: skipped tests:"; printf '%s' "$skipped_list"
        if [ "${CI:-}" = true ]; then
            local name unexpected=""
            while IFS= read -r name; do
                [ -n "$name" ] || continue
                local t=${name#*: }; t=${t%%: *}
                [[ " ${ci_expected_skips[*]} " == *" $t "* ]] || unexpected+="$name"$'\n'
            done <<<"$skipped_list"
            if [ -n "$unexpected" ]; then
                echo "bootstrap: CI=true and these skips are not expected on CI's machine (install what they need):"
                printf '%s' "$unexpected"
                status=1
            fi
        fi
    fi
    if [ -n "$failed_list" ]; then echo "bootstrap: failed tests:"; printf '%s' "$failed_list"; fi
    echo "$n_passed passed, $n_failed failed, $n_skipped skipped"
    return "$status"
}

run_tests() {
    local status=0
    echo "bootstrap: === unit and integration tests ==="
    if build; then
        check_in build || status=1
    else
        echo "bootstrap: the build in ./build failed"; status=1
        n_failed=$((n_failed + 1)); failed_list+="  build: the build"$'\n'
    fi
    echo "bootstrap: === the same suite under AddressSanitizer + UndefinedBehaviorSanitizer ==="
    if configure_in build-asan --enable-werror --enable-sanitizers; then
        check_in build-asan ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
            UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 || status=1
    else
        echo "bootstrap: configuring ./build-asan failed"; status=1
    fi
    if [ -n "${TESTS:-}" ]; then
        echo "bootstrap: TESTS is set: only those tests ran, no distcheck"
    else
        echo "bootstrap: === make distcheck ==="
        make -C build -j"$jobs" distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror >build/distcheck.out 2>&1 \
            || { tail -50 build/distcheck.out; echo "bootstrap: distcheck failed"; n_failed=$((n_failed + 1));
                 failed_list+="  build: make distcheck (see build/distcheck.out)"$'\n'; status=1; }
        echo "bootstrap: === Debian packages ==="
        debian_packages || { n_failed=$((n_failed + 1)); failed_list+="  build: the Debian packages (see build/deb/)"$'\n'; status=1; }
    fi
    [ $status -eq 0 ] || for f in $(grep -l -E '^:test-result: (FAIL|ERROR|XPASS)' build/tests/*/*.trs build-asan/tests/*/*.trs 2>/dev/null); do
        echo "---- ${f%.trs}.log"; tail -40 "${f%.trs}.log"; done
    count_results build
    count_results build-asan
    [ "$n_failed" -eq 0 ] || status=1
    summarise $status
}

# The Debian packages (debian/), built from the dist tarball as a distribution would: dpkg-buildpackage
# (tests skipped: the suite above ran them), lintian with errors and warnings fatal (overrides documented
# in debian/*.lintian-overrides), then scripts/check-debs.sh uses them from a temporary root: mlflowd
# version, the example DAGs, the hello plugin built against the installed SDK. About 1-2 minutes.
debian_packages() {
    local out=build/deb
    rm -rf "$out" && mkdir -p "$out"
    make -C build dist >"$out/dist.log" 2>&1 || { tail -20 "$out/dist.log"; return 1; }
    tar -xzf build/mlflowd-*.tar.gz -C "$out"
    (cd "$out"/mlflowd-*/ && DEB_BUILD_OPTIONS="nocheck parallel=$jobs" dpkg-buildpackage -us -uc -b) \
        >"$out/dpkg-buildpackage.log" 2>&1 || { tail -40 "$out/dpkg-buildpackage.log"; return 1; }
    ls "$out"/*.deb
    if command -v lintian >/dev/null; then
        lintian --fail-on error,warning "$out"/*.changes || { echo "bootstrap: lintian found problems"; return 1; }
    fi
    sh scripts/check-debs.sh "$out" >"$out/check-debs.log" 2>&1 || { tail -30 "$out/check-debs.log"; return 1; }
    tail -1 "$out/check-debs.log"
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
