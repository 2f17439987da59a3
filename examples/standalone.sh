#!/bin/sh
# The README's run command: `mlflowd standalone` on every bundled example DAG -- examples/dags/, the crypto_ml
# pipelines and the sweep -- with the default home (MLFLOWD_HOME, else ~/.mlflowd). First it sets up what the
# pipelines need: the forecast plugin (built against the source tree's SDK), market data ending yesterday (so
# today's scheduled daily run finds its prices), the stand-in exchange on a loopback port, the connections and
# variables, and the DAG folder and plugin path written into HOME/mlflowd.yaml (so that commands from
# another terminal see the same setup). Ctrl-C stops mlflowd and the exchange.
#
#   examples/standalone.sh [standalone options...]      (MLFLOWD: the binary, default build/mlflowd;
#                                                        EXAMPLES_COINS / EXAMPLES_DAYS: data size, 100 x 5600)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
MLFLOWD=${MLFLOWD:-$top/build/mlflowd}
[ -x "$MLFLOWD" ] || { echo "$0: $MLFLOWD not found: build first (README.md)" >&2; exit 2; }
export MLFLOWD_HOME="${MLFLOWD_HOME:-$HOME/.mlflowd}"
work="$MLFLOWD_HOME/examples"
umask 022 # plugin files and folders writable by others are refused
export PYTHONDONTWRITEBYTECODE=1
unset MLFLOWD_CONFIG MLFLOWD_DAGS_FOLDER || true
mkdir -p "$work/data" "$work/plugins" "$work/dags"

echo "== the forecast plugin (crypto_ml)"
make -s -f "$here/crypto_ml/plugin/Makefile" O="$work/plugins" SDK_CFLAGS="-I$top/sdk" SDK_LIBS=
chmod -R go-w "$work/plugins"
export MLFLOWD__PLUGINS__PATH="$work/plugins,{plugindir}"

echo "== market data ending yesterday"
days=${EXAMPLES_DAYS:-5600}
start=$(python3 -c "import datetime; print(datetime.date.today() - datetime.timedelta(days=$days))")
python3 "$here/crypto_ml/generate_data.py" --db "$work/data/crypto.db" --days "$days" --start "$start" \
    --coins "${EXAMPLES_COINS:-100}"

echo "== the stand-in exchange"
export no_proxy="127.0.0.1${no_proxy:+,$no_proxy}" NO_PROXY="127.0.0.1${NO_PROXY:+,$NO_PROXY}"
rm -f "$work/exchange.port"
python3 "$here/crypto_ml/exchange.py" --port-file "$work/exchange.port" --orders "$work/orders.jsonl" &
exchange=$!
trap 'kill $exchange 2>/dev/null || true' EXIT INT TERM
i=0
while [ ! -s "$work/exchange.port" ]; do
    i=$((i + 1))
    [ $i -le 100 ] && kill -0 $exchange 2>/dev/null || { echo "$0: the exchange did not start" >&2; exit 1; }
    sleep 0.1
done

echo "== connections and variables"
for c in crypto_db exchange sweep_db; do "$MLFLOWD" connections delete $c >/dev/null 2>&1 || true; done
"$MLFLOWD" connections add crypto_db --conn-type sqlite --conn-host "$work/data/crypto.db" >/dev/null
"$MLFLOWD" connections add exchange --conn-uri "http://127.0.0.1:$(cat "$work/exchange.port")" >/dev/null
"$MLFLOWD" connections add sweep_db --conn-type sqlite --conn-host "$work/data/sweep.db" >/dev/null
"$MLFLOWD" variables set crypto_ml_dir "$here/crypto_ml" >/dev/null
"$MLFLOWD" variables set sweep_dir "$here/sweep" >/dev/null

echo "== the configuration ($MLFLOWD_HOME/mlflowd.yaml)"
# the choices above go into the home's configuration file, so that every later command -- `mlflowd dags
# trigger sweep` from another terminal -- sees the same DAG folder and plugins. A file someone else wrote
# (without this script's first line) is left alone.
cfg="$MLFLOWD_HOME/mlflowd.yaml"
marker="# written by examples/standalone.sh"
yq() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g")"; } # a single-quoted YAML scalar
if [ ! -e "$cfg" ] || head -n 1 "$cfg" | grep -qF "$marker"; then
    cat >"$cfg" <<EOF
$marker (remove this line and the script leaves the file alone)
dags_folder: $(yq "$work/dags")
plugins:
  path: [$(yq "$work/plugins"), '{plugindir}']
EOF
else
    echo "   $cfg was not written by this script: left as it is; set dags_folder: $work/dags and"
    echo "   plugins.path: [$work/plugins, '{plugindir}'] in it for other terminals to see the examples"
fi

echo "== DAGs"
rm -f "$work/dags"/*.yaml
for f in "$here"/dags/*.yaml "$here"/crypto_ml/dags/*.yaml "$here"/sweep/dags/*.yaml; do
    ln -s "$f" "$work/dags/$(basename "$f")"
done
ls "$work/dags"
echo "   (the sweep has no schedule: mlflowd dags trigger sweep, from another terminal with MLFLOWD_HOME=$MLFLOWD_HOME)"

echo "== a first model"
# crypto_ml_train runs after every 7 updates of the prices asset (one per daily run, doc/assets.md); the model
# the daily runs forecast with comes from one training run now
"$MLFLOWD" dags trigger crypto_ml_train --dags-folder "$work/dags" >/dev/null

# mlflowd runs as our child so that INT and TERM reach it even when this script was started in the
# background (where a shell ignores SIGINT) and the exchange is stopped afterwards
"$MLFLOWD" standalone --dags-folder "$work/dags" "$@" &
mlf=$!
trap 'kill -INT $mlf 2>/dev/null || true' INT TERM
status=0
wait $mlf || status=$?
while kill -0 $mlf 2>/dev/null; do
    status=0
    wait $mlf || status=$?
done
exit $status
