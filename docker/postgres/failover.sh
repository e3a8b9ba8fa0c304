#!/bin/sh
# The two moves of docker-compose.ha.yml's primary and standby, run on the host (what `npm run stack --
# failover | rebuild-standby` does on the local stack, stack/pg-failover.ts):
#   sh docker/postgres/failover.sh status     each node's role: primary, standby or down.
#   sh docker/postgres/failover.sh failover   fences the primary first (stops its container, a fast shutdown
#       that sends the standby the WAL it has not had yet, and marks its data volume so that it never starts
#       again as it is), promotes the standby, clears the new primary's waits for a standby
#       (synchronous_standby_names, synchronized_standby_slots) and waits until pg-proxy's address reaches it.
#   sh docker/postgres/failover.sh rebuild    wipes the node that is not the primary (the fenced one), starts it
#       (docker/postgres/ha.sh copies the primary and follows it), has the primary wait for it again (pg-sync)
#       and restarts pg-proxy, which resolves the nodes' names only when it starts.
# After a failover, run rebuild before the next `up`: the fenced node refuses to start, and what waits for it
# (pg-proxy, and everything that waits for postgres) would not start either.
# COMPOSE is the compose command with its files (default: docker compose -f docker-compose.yml -f
# docker-compose.ha.yml), run from the repository's root; with the cluster profile, for instance:
#   COMPOSE='docker compose -f docker-compose.yml -f docker-compose.cluster.yml -f docker-compose.ha.yml' sh docker/postgres/failover.sh failover
set -eu
cd "$(dirname "$0")/../.."
NODES='postgres postgres-replica'

compose() { ${COMPOSE:-docker compose -f docker-compose.yml -f docker-compose.ha.yml} "$@"; }
sql() { node=$1 && shift && compose exec -T "$node" psql -XAtq -v ON_ERROR_STOP=1 -U postgres -d postgres "$@"; }
role() {
  case $(sql "$1" -c 'select pg_is_in_recovery()' 2>/dev/null || true) in
    f) echo primary ;;
    t) echo standby ;;
    *) echo down ;;
  esac
}
say() { echo "qtshop failover: $*" >&2; }
die() { say "$*" && exit 1; }
other() { if [ "$1" = postgres ]; then echo postgres-replica; else echo postgres; fi; }
# The node (service) whose role is $1, or nothing.
node_of() { for n in $NODES; do [ "$(role "$n")" != "$1" ] || { echo "$n" && return; }; done; }
now() { date +%s; }

status() { for n in $NODES; do echo "$n: $(role "$n")"; done; }

failover() {
  t0=$(now)
  standby=$(node_of standby)
  [ -n "$standby" ] || die "no standby to promote ($(status | tr '\n' ' '))"
  old=$(other "$standby")
  # Fence first: once the standby is promoted, the old primary must take no write.
  compose stop "$old"
  compose run --rm --no-deps -T --entrypoint sh "$old" \
    -c "echo '$(date -u +%Y-%m-%dT%H:%M:%SZ) was the primary until the failover to $standby' >\"\$PGDATA/qtshop-fenced\""
  say "$old: fenced after $(($(now) - t0)) s"
  [ "$(sql "$standby" -c 'select pg_promote(true, 60)')" = t ] || die "$standby: not promoted within 60 s"
  # Alone now: no standby to wait for at commit or before Debezium is sent a change.
  sql "$standby" -c "alter system set synchronous_standby_names = ''" -c "alter system set synchronized_standby_slots = ''" \
    -c 'select pg_reload_conf()' >/dev/null
  say "$standby: promoted after $(($(now) - t0)) s; its logical slots:" \
    "$(sql "$standby" -c "select coalesce(string_agg(slot_name || case when failover then '' else ' (no failover)' end, ', ' order by slot_name), 'none') from pg_replication_slots where slot_type = 'logical'")"
  # pg-proxy checks every second; with the old primary stopped, any primary behind it is the new one.
  waited=0
  until [ "$(compose exec -T "$standby" psql -XAtq 'host=pg-proxy port=5432 user=qtshop_check dbname=postgres connect_timeout=2' \
    -c 'select pg_is_in_recovery()' 2>/dev/null || true)" = f ]; do
    [ "$waited" -lt 30 ] || die "pg-proxy's address does not reach $standby after 30 s"
    sleep 1
    waited=$((waited + 1))
  done
  say "done after $(($(now) - t0)) s: $standby is the primary behind pg-proxy; $old is fenced until: sh docker/postgres/failover.sh rebuild"
}

rebuild() {
  primary=$(node_of primary)
  [ -n "$primary" ] || die "no running primary to copy ($(status | tr '\n' ' '))"
  target=$(other "$primary")
  if [ "$(role "$target")" = standby ]; then
    say "$target is already the standby"
  else
    compose stop "$target"
    compose run --rm --no-deps -T --entrypoint sh "$target" -c 'find "$PGDATA" -mindepth 1 -delete'
    say "$target: data wiped; copying $primary"
    compose up -d --no-deps "$target"
    waited=0
    until [ "$(role "$target")" = standby ]; do
      [ "$waited" -lt 600 ] || die "$target is not a standby after 600 s: docker compose logs $target"
      sleep 2
      waited=$((waited + 2))
    done
    compose restart pg-proxy
  fi
  compose run --rm --no-deps pg-sync
}

case "${1:-}" in
  status) status ;;
  failover) failover ;;
  rebuild) rebuild ;;
  *) die "usage: sh docker/postgres/failover.sh status | failover | rebuild" ;;
esac
