#!/bin/sh
# Secrets at rest (issue 15): connection passwords and extras and sensitive variables are sealed in the
# state store under the home's secrets key (keys/secrets.key, made 0600 on the first start); tasks still
# read them; `db rotate-key` re-seals them under a new key; a store opened with another key, or a key file
# others can read, is refused with a clear error.
. "$top_srcdir/tests/integration/lib.sh"

pw='Pw-AtRest-8c1f'
mkdir -p "$tmp/dags"
cat >"$tmp/dags/atrest.yaml" <<YAML
dag_id: atrest
schedule: null
tasks:
  use_conn: {operator: shell, command: "echo '{{ conn.warehouse.password }}' > $tmp/out-{{ run_id }}.txt"}
YAML
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
keyf="$MLFLOWD_HOME/keys/secrets.key"
data="$MLFLOWD_HOME/state/data.mdb"

expect_exit 0 "$MLFLOWD" db init
[ -f "$keyf" ] || fail "db init made no secrets key file"
[ "$(stat -c %a "$keyf")" = 600 ] || fail "the secrets key file has mode $(stat -c %a "$keyf"), not 600"
expect_exit 0 "$MLFLOWD" connections add warehouse --conn-uri "postgres://etl:$pw@db:5432/analytics?api_key=Extra-Key-55aa"
expect_exit 0 "$MLFLOWD" variables set db_password Var-AtRest-3f2e
expect_exit 0 "$MLFLOWD" variables set greeting plain-visible-77
# the raw store: the plain variable is there in clear (so grep would see a clear secret), the secrets are not
grep -a -q plain-visible-77 "$data" || fail "control: a clear value is not found in $data"
for s in "$pw" Extra-Key-55aa Var-AtRest-3f2e; do
    if grep -a -q -- "$s" "$data"; then fail "$s is stored in clear in $data"; fi
done
expect_exit 0 "$MLFLOWD" variables get db_password
[ "$out" = Var-AtRest-3f2e ] || fail "variables get read '$out'"

# run_once RUN_ID: triggers a run and runs the scheduler until its task wrote the password it was given
run_once() {
    expect_exit 0 "$MLFLOWD" dags trigger atrest --run-id "$1"
    "$MLFLOWD" scheduler >"$tmp/sched-$1.log" 2>&1 &
    sched=$!
    i=0
    until [ "$("$MLFLOWD" tasks state atrest use_conn "$1" 2>/dev/null)" = success ]; do
        i=$((i + 1)); [ $i -le "$(scaled 300)" ] || { cat "$tmp/sched-$1.log"; fail "the task of run $1 did not succeed"; }
        sleep 0.1
    done
    stop_pid "$sched" "the scheduler"
    [ "$(cat "$tmp/out-$1.txt")" = "$pw" ] || fail "run $1: the task read '$(cat "$tmp/out-$1.txt")', not the password"
}
run_once r1

# rotation: a new key, every secret re-sealed, the old key refused, tasks still read the connection
cp "$keyf" "$tmp/old.key"
expect_exit 0 "$MLFLOWD" db rotate-key
case "$out" in *"Re-sealed 2 secret record(s)"*) ;; *) fail "rotate-key said: $out" ;; esac
cmp -s "$keyf" "$tmp/old.key" && fail "rotate-key left the key file unchanged"
[ "$(stat -c %a "$keyf")" = 600 ] || fail "the new key file has mode $(stat -c %a "$keyf")"
[ ! -e "$keyf.old" ] && [ ! -e "$keyf.new" ] || fail "rotate-key left $keyf.old or .new behind"
for s in "$pw" Extra-Key-55aa Var-AtRest-3f2e; do
    if grep -a -q -- "$s" "$data"; then fail "$s is in clear in $data after rotate-key"; fi
done
expect_exit 0 "$MLFLOWD" db check
run_once r2

# the wrong key: every command that opens the store says so, and nothing reads garbage
cp "$keyf" "$tmp/new.key"
cp "$tmp/old.key" "$keyf"
expect_exit 1 "$MLFLOWD" connections get warehouse
case "$err" in *"secrets key does not match the store"*"$keyf"*) ;; *) fail "wrong key: $err" ;; esac
expect_exit 1 "$MLFLOWD" db check
case "$err" in *"secrets key does not match the store"*) ;; *) fail "db check with the wrong key: $err" ;; esac
expect_exit 1 "$MLFLOWD" scheduler
case "$err" in *"secrets key does not match the store"*) ;; *) fail "the scheduler with the wrong key: $err" ;; esac
cp "$tmp/new.key" "$keyf"

# a key file the group may read is refused, with the fix
chmod 640 "$keyf"
expect_exit 1 "$MLFLOWD" variables get db_password
case "$err" in *"too open"*"chmod 600"*) ;; *) fail "a 0640 key file: $err" ;; esac
chmod 600 "$keyf"

# the key from the environment instead of the file, and a missing file with sealed secrets is not replaced
mv "$keyf" "$tmp/env.key"
expect_exit 1 "$MLFLOWD" variables get db_password
case "$err" in *"does not exist, but the state store holds secrets"*) ;; *) fail "a missing key file: $err" ;; esac
[ ! -e "$keyf" ] || fail "a new key file was made although the store's secrets are sealed"
MLFLOWD__CORE__SECRETS_KEY=$(grep -v '^#' "$tmp/env.key") expect_exit 0 "$MLFLOWD" variables get db_password
[ "$out" = Var-AtRest-3f2e ] || fail "with the key in the environment: '$out'"
MLFLOWD__CORE__SECRETS_KEY=$(grep -v '^#' "$tmp/env.key") expect_exit 0 "$MLFLOWD" config get core.secrets_key
[ "$out" = '***' ] || fail "config get printed the key: $out"
echo "secrets at rest ok"
