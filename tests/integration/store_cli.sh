#!/bin/sh
# connections, variables and pools: every verb, the JSON shapes, masking of secrets, and the exit codes
# of unknown ids and bad input.
. "$top_srcdir/tests/integration/lib.sh"

# ------------------------------------------------------------------------------------------ pools
# A fresh home has the default pool (the store creates it).
expect_exit 0 "$MLFLOWD" pools list -o json
json_check 'd == [{"pool": "default_pool", "slots": 128, "description": "Default pool"}]'
expect_exit 0 "$MLFLOWD" pools list
case "$out" in *"default_pool"*"128"*) ;; *) fail "pools list table: $out" ;; esac

expect_exit 0 "$MLFLOWD" pools set gpu 2 "the GPU boxes"
case "$out" in "Pool gpu set: 2 slots") ;; *) fail "pools set: $out" ;; esac
expect_exit 0 "$MLFLOWD" pools set unbounded -1
case "$out" in *"unlimited"*) ;; *) fail "pools set -1: $out" ;; esac
expect_exit 0 "$MLFLOWD" pools set gpu 4          # resize keeps the description
expect_exit 0 "$MLFLOWD" pools set default_pool 16
expect_exit 0 "$MLFLOWD" pools list -o json
json_check '{p["pool"]: p["slots"] for p in d} == {"default_pool": 16, "gpu": 4, "unbounded": -1}
    and [p for p in d if p["pool"] == "gpu"][0]["description"] == "the GPU boxes"
    and [p for p in d if p["pool"] == "unbounded"][0]["description"] is None'
expect_exit 0 "$MLFLOWD" pools list
case "$out" in *"unbounded"*"unlimited"*) ;; *) fail "pools list shows -1 as unlimited: $out" ;; esac

expect_exit 2 "$MLFLOWD" pools set gpu -2
case "$err" in *"bad slot count '-2'"*) ;; *) fail "pools set -2: $err" ;; esac
expect_exit 2 "$MLFLOWD" pools set gpu many
expect_exit 2 "$MLFLOWD" pools set gpu 1.5
expect_exit 2 "$MLFLOWD" pools set gpu
expect_exit 2 "$MLFLOWD" pools delete default_pool
case "$err" in *"default_pool cannot be deleted"*) ;; *) fail "delete default_pool: $err" ;; esac
expect_exit 2 "$MLFLOWD" pools delete gpus
case "$err" in *"pool gpus does not exist; did you mean 'gpu'?"*) ;; *) fail "unknown pool: $err" ;; esac
expect_exit 0 "$MLFLOWD" pools delete gpu
case "$out" in "Pool gpu deleted") ;; *) fail "pools delete: $out" ;; esac
expect_exit 0 "$MLFLOWD" pools list -o json
json_check 'sorted(p["pool"] for p in d) == ["default_pool", "unbounded"]'

# -------------------------------------------------------------------------------------- variables
expect_exit 0 "$MLFLOWD" variables list -o json
json_check 'd == []'
expect_exit 0 "$MLFLOWD" variables set env production --description "where we run"
case "$out" in "Variable env set") ;; *) fail "variables set: $out" ;; esac
expect_exit 0 "$MLFLOWD" variables set DB_Password hunter2
expect_exit 0 "$MLFLOWD" variables set slack_api_key xoxb-123
expect_exit 0 "$MLFLOWD" variables set negative -5              # a negative number is a value, not an option
expect_exit 0 "$MLFLOWD" variables set env staging               # a new value keeps the description
expect_exit 0 "$MLFLOWD" variables get env
[ "$out" = staging ] || fail "variables get: $out"
expect_exit 0 "$MLFLOWD" variables get negative
[ "$out" = -5 ] || fail "variables get negative: $out"
expect_exit 0 "$MLFLOWD" variables get DB_Password              # get is explicit: the value in clear
[ "$out" = hunter2 ] || fail "variables get of a sensitive key: $out"
expect_exit 0 "$MLFLOWD" variables list -o json
json_check '[v["key"] for v in d] == ["DB_Password", "env", "negative", "slack_api_key"]
    and {v["key"]: v["value"] for v in d} == {"DB_Password": "***", "env": "staging", "negative": "-5",
                                              "slack_api_key": "***"}
    and [v for v in d if v["key"] == "env"][0]["description"] == "where we run"'
expect_exit 0 "$MLFLOWD" variables list
case "$out" in *hunter2*|*xoxb*) fail "variables list shows a secret: $out" ;; esac
case "$out" in *"env"*"staging"*"where we run"*) ;; *) fail "variables list table: $out" ;; esac

expect_exit 1 "$MLFLOWD" variables get evn                      # exit 1, as Airflow
case "$err" in *"variable evn does not exist; did you mean 'env'?"*) ;; *) fail "variables get unknown: $err" ;; esac
expect_exit 0 "$MLFLOWD" variables get evn --default fallback
[ "$out" = fallback ] || fail "variables get --default: $out"
expect_exit 2 "$MLFLOWD" variables get
expect_exit 2 "$MLFLOWD" variables set only_key
expect_exit 2 "$MLFLOWD" variables set "" value
expect_exit 2 "$MLFLOWD" variables get env --defualt x
case "$err" in *"did you mean '--default'"*) ;; *) fail "unknown option suggestion: $err" ;; esac
expect_exit 2 "$MLFLOWD" variables delete evn
case "$err" in *"did you mean 'env'"*) ;; *) fail "variables delete unknown: $err" ;; esac
expect_exit 0 "$MLFLOWD" variables delete env
expect_exit 1 "$MLFLOWD" variables get env

# ------------------------------------------------------------------------------------ connections
expect_exit 0 "$MLFLOWD" connections list -o json
json_check 'd == []'
expect_exit 0 "$MLFLOWD" connections add warehouse \
    --conn-uri 'postgresql://etl:p%40ss%2Fword@db.example.com:5432/analytics?sslmode=require&api_token=tok123'
case "$out" in "Connection warehouse added: postgres://etl:***@db.example.com:5432/analytics?sslmode=require&api_token=***") ;;
    *) fail "connections add --conn-uri: $out" ;; esac
expect_exit 0 "$MLFLOWD" connections add exchange --conn-type http-api --conn-host https://api.exchange.test \
    --conn-port 8443 --conn-login bot --conn-password 'S3cr3t!' --conn-extra '{"timeout": 30, "headers": {"Authorization": "Bearer x"}}' \
    --conn-description "the exchange"
expect_exit 0 "$MLFLOWD" connections add files --conn-json '{"conn_type": "fs", "extra": {"path": "/data"}}'

expect_exit 0 "$MLFLOWD" connections get warehouse -o json
json_check 'd["conn_id"] == "warehouse" and d["conn_type"] == "postgres" and d["host"] == "db.example.com"
    and d["port"] == 5432 and d["login"] == "etl" and d["schema"] == "analytics" and d["description"] is None
    and d["password"] == "***" and d["extra"] == {"sslmode": "require", "api_token": "***"}
    and d["uri"] == "postgres://etl:***@db.example.com:5432/analytics?sslmode=require&api_token=***"
    and list(d) == ["conn_id", "conn_type", "host", "port", "login", "password", "schema", "extra", "description", "uri"]'
expect_exit 0 "$MLFLOWD" connections get exchange -o json
json_check 'd["conn_type"] == "http_api" and d["host"] == "https://api.exchange.test" and d["port"] == 8443
    and d["extra"] == {"timeout": 30, "headers": {"Authorization": "***"}} and d["description"] == "the exchange"'
expect_exit 0 "$MLFLOWD" connections get files -o json
json_check 'd["password"] is None and d["port"] is None and d["extra"] == {"path": "/data"}'
expect_exit 0 "$MLFLOWD" connections get warehouse
case "$out" in *"password"*"***"*"uri"*"postgres://etl:***@"*) ;; *) fail "connections get table: $out" ;; esac

expect_exit 0 "$MLFLOWD" connections list -o json
json_check '[c["conn_id"] for c in d] == ["exchange", "files", "warehouse"]
    and all(c["password"] in (None, "***") for c in d)'
expect_exit 0 "$MLFLOWD" connections list
case "$out" in *"warehouse"*"postgres"*"db.example.com"*"5432"*) ;; *) fail "connections list table: $out" ;; esac

# No output of any command shows a password or a sensitive extra in clear.
for cmd in "connections list" "connections list -o json" "connections get warehouse" \
           "connections get warehouse -o json" "connections get exchange" "connections get exchange -o json"; do
    # shellcheck disable=SC2086
    expect_exit 0 "$MLFLOWD" $cmd
    case "$out$err" in *p@ss*|*p%40ss*|*tok123*|*S3cr3t*|*Bearer*) fail "'$cmd' shows a secret: $out" ;; esac
done

# A connection defined only in the environment is found by get (the store first, then the environment).
MLFLOWD_CONN_FROM_ENV='mysql://u:envpw@envhost:3306/db' expect_exit 0 "$MLFLOWD" connections get from_env -o json
json_check 'd["host"] == "envhost" and d["password"] == "***" and d["conn_type"] == "mysql"'
MLFLOWD_CONN_WAREHOUSE='mysql://other' expect_exit 0 "$MLFLOWD" connections get warehouse -o json
json_check 'd["host"] == "db.example.com"'
MLFLOWD_CONN_BROKEN='mysql://h:notaport' expect_exit 2 "$MLFLOWD" connections get broken
case "$err" in *'$MLFLOWD_CONN_BROKEN: bad port'*) ;; *) fail "malformed environment connection: $err" ;; esac

# Unknown ids and bad input.
expect_exit 2 "$MLFLOWD" connections get warehose
case "$err" in *"connection warehose does not exist; did you mean 'warehouse'?"*) ;; *) fail "unknown connection: $err" ;; esac
expect_exit 2 "$MLFLOWD" connections delete warehose
case "$err" in *"did you mean 'warehouse'"*) ;; *) fail "connections delete unknown: $err" ;; esac
expect_exit 2 "$MLFLOWD" connections add warehouse --conn-uri 'postgres://h'
case "$err" in *"already exists"*) ;; *) fail "duplicate connection: $err" ;; esac
expect_exit 2 "$MLFLOWD" connections add c1 --conn-uri 'db.example.com:5432'
case "$err" in *"no scheme"*) ;; *) fail "URI without scheme: $err" ;; esac
expect_exit 2 "$MLFLOWD" connections add c1 --conn-uri 'postgres://h:99999'
case "$err" in *"bad port '99999'"*) ;; *) fail "URI with a bad port: $err" ;; esac
expect_exit 2 "$MLFLOWD" connections add c1 --conn-uri 'postgres://u:pw%zz@h'
case "$err" in *"bad percent-escape in the password"*) ;; *) fail "URI with a bad escape: $err" ;; esac
case "$err" in *zz*) fail "the password leaks into the message: $err" ;; esac
expect_exit 2 "$MLFLOWD" connections add c1 --conn-uri 'postgres://h' --conn-host h
case "$err" in *"--conn-host cannot be combined with --conn-uri"*) ;; *) fail "uri + host: $err" ;; esac
expect_exit 2 "$MLFLOWD" connections add c1 --conn-uri 'postgres://h' --conn-type postgres
expect_exit 2 "$MLFLOWD" connections add c1
case "$err" in *"needs --conn-uri"*) ;; *) fail "no form: $err" ;; esac
expect_exit 2 "$MLFLOWD" connections add c1 --conn-type http --conn-port 0
expect_exit 2 "$MLFLOWD" connections add c1 --conn-type http --conn-port abc
expect_exit 2 "$MLFLOWD" connections add c1 --conn-type http --conn-extra '[1]'
case "$err" in *"bad --conn-extra"*) ;; *) fail "bad extra: $err" ;; esac
expect_exit 2 "$MLFLOWD" connections add c1 --conn-json '{"conn_type": "x", "hots": "h"}'
case "$err" in *"did you mean 'host'"*) ;; *) fail "bad JSON key: $err" ;; esac
expect_exit 2 "$MLFLOWD" connections add c1 --conn-json '{"host": "h"}'
case "$err" in *"no conn_type"*) ;; *) fail "JSON without conn_type: $err" ;; esac
expect_exit 2 "$MLFLOWD" connections add 'bad id' --conn-type http
expect_exit 2 "$MLFLOWD" connections add c1 --conn-type
case "$err" in *"--conn-type needs a value"*) ;; *) fail "flag without value: $err" ;; esac
expect_exit 2 "$MLFLOWD" connections add c1 --conn-hots h --conn-type http
case "$err" in *"did you mean '--conn-host'"*) ;; *) fail "unknown flag suggestion: $err" ;; esac
expect_exit 0 "$MLFLOWD" connections list -o json
json_check '[c["conn_id"] for c in d] == ["exchange", "files", "warehouse"]'    # nothing half-added

expect_exit 0 "$MLFLOWD" connections delete warehouse
case "$out" in "Connection warehouse deleted") ;; *) fail "connections delete: $out" ;; esac
expect_exit 2 "$MLFLOWD" connections get warehouse
expect_exit 0 "$MLFLOWD" connections add warehouse --conn-uri 'postgres://h'     # the id is free again

# The store stays consistent.
expect_exit 0 "$MLFLOWD" db check
echo "store cli ok"

