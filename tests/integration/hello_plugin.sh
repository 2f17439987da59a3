#!/bin/sh
# The example plugin builds out of tree against an *installed* SDK (headers + mlflowd-plugin.pc from
# `make install` into a temporary root), and mlflowd loads it beside the installed built-in plugins.
. "$top_srcdir/tests/integration/lib.sh"

make -C "$top_builddir" install DESTDIR="$tmp/root" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "make install"; }
pc=$(find "$tmp/root" -name mlflowd-plugin.pc | head -1)
[ -n "$pc" ] || fail "mlflowd-plugin.pc was not installed"
export PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_SYSROOT_DIR="$tmp/root"
case "$(pkg-config --cflags mlflowd-plugin)" in
    *"$tmp/root"*) ;;
    *) fail "pkg-config does not point into the install root: $(pkg-config --cflags mlflowd-plugin)" ;;
esac
plugindir="$tmp/root$(PKG_CONFIG_SYSROOT_DIR= pkg-config --variable=plugindir mlflowd-plugin)"
[ -f "$plugindir/shell.so" ] || fail "built-in plugins not installed in $plugindir"
for h in mlflowd.h value.h plugin.h task.h host.h; do
    [ -f "$(dirname "$pc")/../../include/mlflowd/$h" ] || fail "header $h not installed"
done

cp -R "$top_srcdir/examples/hello-plugin" "$tmp/hello"
chmod -R u+w,go-w "$tmp/hello"
make -C "$tmp/hello" clean all CFLAGS="-O2 -Wall -Wextra -Werror" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; fail "out-of-tree build"; }
nm -D --defined-only "$tmp/hello/hello.so" | grep -q ' mlf_plugin_entry$' || fail "hello.so does not export mlf_plugin_entry"

MLFLOWD__PLUGINS__PATH="$tmp/hello,$plugindir" expect_exit 0 "$MLFLOWD" plugins list -o json
json_check 'sorted(p["name"] for p in d) == sorted("'"$MLF_BUILT_PLUGINS"' hello".split())'
json_check '[p for p in d if p["name"] == "hello"][0]["operators"][0]["params"][1] == {"name": "name", "type": "str", "required": True, "templated": True, "default": None, "help": "whom to greet"}'
json_check '[p for p in d if p["name"] == "hello"][0]["macros"][0]["name"] == "shout"'
json_check '[p for p in d if p["name"] == "hello"][0]["file"] == "'"$tmp"'/hello/hello.so"'

# Loading only the listed plugin.
MLFLOWD__PLUGINS__PATH="$tmp/hello,$plugindir" MLFLOWD__PLUGINS__LOAD=hello expect_exit 0 "$MLFLOWD" plugins list -o json
json_check '[p["name"] for p in d] == ["hello"]'
echo "hello plugin: built out of tree against the installed SDK and loaded"
