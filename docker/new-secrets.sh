#!/bin/sh
# Prints .env.example with a new random value in place of every secret (its `NAME=change-me` lines), as a
# compose .env file:
#   sh docker/new-secrets.sh > .env      (then: docker compose up)
# Each secret is 64 hex digits (32 random bytes) from /dev/urandom: letters and digits only, as the passwords
# must be (they go unescaped into JAAS and SCRAM configurations, Connect's users file, MongoDB's URL and the
# standby's primary_conninfo).
# One secret per principal: a container holds only its own. Keep .env out of version control (.gitignore
# has it). test/compose/security.unit.test.ts checks that the secrets are exactly those the compose files
# require, and env-example.unit.test.ts that .env.example documents every variable they read.
set -eu
example="$(dirname "$0")/../.env.example"
secret() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }
while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in
    [A-Z]*=change-me) printf '%s=%s\n' "${line%%=*}" "$(secret)" ;;
    *) printf '%s\n' "$line" ;;
  esac
done <"$example"
