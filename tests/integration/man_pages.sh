#!/bin/sh
# mlflowd(1) and mlflowd.yaml(5), built from the binary's help and settings table, are current, render
# without groff warnings, and name every command and every setting; the completion scripts are installed
# from the same build.
. "$top_srcdir/tests/integration/lib.sh"
for page in mlflowd.1 mlflowd.yaml.5; do
    [ -s "$top_builddir/$page" ] || fail "$page was not built"
done
sh "$top_srcdir/scripts/gen-man.sh" 1 "$MLFLOWD" >"$tmp/mlflowd.1"
sh "$top_srcdir/scripts/gen-man.sh" 5 "$MLFLOWD" >"$tmp/mlflowd.yaml.5"
cmp -s "$tmp/mlflowd.1" "$top_builddir/mlflowd.1" || fail "the built mlflowd.1 is stale"
cmp -s "$tmp/mlflowd.yaml.5" "$top_builddir/mlflowd.yaml.5" || fail "the built mlflowd.yaml.5 is stale"
if command -v groff >/dev/null; then
    for page in mlflowd.1 mlflowd.yaml.5; do
        warnings=$(groff -man -Tutf8 -ww -z "$tmp/$page" 2>&1)
        [ -z "$warnings" ] || fail "groff warns about $page: $warnings"
    done
    text=$(groff -man -Tascii -P-cbou "$tmp/mlflowd.1" 2>/dev/null)
    "$MLFLOWD" --help | sed -n '/^Commands:/,/^$/p' | sed '1d;$d' | sed 's/^  //; s/  .*//' | while IFS= read -r cmd; do
        printf '%s\n' "$text" | grep -q "mlflowd $cmd\$" || fail "mlflowd.1 lacks the command '$cmd'"
    done
    printf '%s\n' "$text" | grep -q -- "--conf JSON" || fail "mlflowd.1 lacks per-option help"
    text=$(groff -man -Tascii -P-cbou "$tmp/mlflowd.yaml.5" 2>/dev/null)
    "$MLFLOWD" config list --defaults -o json | python3 -c 'import json,sys; print("\n".join(k["key"] for k in json.load(sys.stdin)))' \
        | while IFS= read -r key; do
            printf '%s\n' "$text" | grep -q "^       $key" || fail "mlflowd.yaml.5 lacks the setting '$key'"
        done
fi
[ "$(cat "$top_builddir/mlflowd.bash-completion")" = "$("$MLFLOWD" completion bash)" ] || fail "stale bash completion"
[ "$(cat "$top_builddir/mlflowd.zsh-completion")" = "$("$MLFLOWD" completion zsh)" ] || fail "stale zsh completion"
# installed where bash-completion and zsh look
make -C "$top_builddir" install-completions install-man DESTDIR="$tmp/root" prefix=/usr >"$tmp/install.log" 2>&1 \
    || fail "install: $(cat "$tmp/install.log")"
for f in usr/share/bash-completion/completions/mlflowd usr/share/zsh/vendor-completions/_mlflowd \
    usr/share/man/man1/mlflowd.1 usr/share/man/man5/mlflowd.yaml.5; do
    [ -s "$tmp/root/$f" ] || fail "$f not installed: $(cat "$tmp/install.log")"
done
echo "man pages ok"
