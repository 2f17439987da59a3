#!/bin/sh
# HTTPS: with api.tls_cert_file and api.tls_key_file the webserver serves TLS only, and the session cookie
# is Secure; a certificate without its key is refused with a clear message.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/web_lib.sh"
trap 'rc=$?; web_stop; cleanup $rc' EXIT
command -v openssl >/dev/null || { echo "SKIP: openssl is not installed (needed to make a test certificate)"; exit 77; }
web_dags
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -keyout "$tmp/key.pem" -out "$tmp/cert.pem" \
    >/dev/null 2>&1 || fail "openssl could not make a certificate"
expect_exit 0 "$MLFLOWD" users create ada --role admin --password 'ada-secret-1'

MLFLOWD__API__TLS_CERT_FILE="$tmp/cert.pem" expect_exit 2 "$MLFLOWD" webserver --listen 127.0.0.1:0
case "$err" in *"needs both api.tls_cert_file and api.tls_key_file"*) ;; *) fail "cert without key: $err" ;; esac

export MLFLOWD__API__TLS_CERT_FILE="$tmp/cert.pem" MLFLOWD__API__TLS_KEY_FILE="$tmp/key.pem"
web_start
case "$url" in https://*) ;; *) fail "the URL is not https: $url" ;; esac
http GET /health --cacert "$tmp/cert.pem"
expect_status 200
http POST /api/v1/auth/login --cacert "$tmp/cert.pem" -H "Content-Type: application/json" \
    -d '{"username": "ada", "password": "ada-secret-1"}'
expect_status 200
grep -i '^Set-Cookie:' "$tmp/headers" | grep -q 'HttpOnly; SameSite=Strict; Max-Age=[0-9]*; Secure' ||
    fail "the session cookie is not Secure under HTTPS: $(cat "$tmp/headers")"
# plain HTTP to the TLS port gets no answer
plain=$(printf '%s' "$url" | sed 's|^https|http|')
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$plain/health" || true)
[ "$code" != 200 ] || fail "plain HTTP was answered on the HTTPS port"
web_stop check
