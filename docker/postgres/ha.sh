#!/bin/sh
# The PostgreSQL primary and its streaming standby of docker-compose.ha.yml, in the postgres image: what the
# local stack's stack/components/pg-standby.ts does with STACK_PG_STANDBY, with the same names (node <id>
# streams as application_name node_<id> through the physical slot qtshop_node_<id> on the other node).
#
#   sh ha.sh node postgres -c ...   Entry point of both nodes (postgres is node 1, postgres-replica node 2);
#       ends in the image's own (docker-entrypoint.sh) with the same arguments. A node with data starts as its
#       data says: the primary, or a standby (standby.signal). A node with no data is copied from the other
#       one when that is a running primary (pg_basebackup through the slot qtshop_node_<id>, which it creates),
#       and follows it; node 1 with no data while node 2 does not answer is new: the image initialises it (its
#       first start). A node fenced by a failover (docker/postgres/failover.sh) does not start at all.
#   sh ha.sh sync                   The pg-sync job, on every `up`: once the standby streams, the primary waits
#       for it at every commit (synchronous_standby_names, unless QTSHOP_PG_SYNCHRONOUS=false) and sends Debezium
#       no change the standby has not received (synchronized_standby_slots); with no standby streaming within
#       60 s, both are cleared, so that the primary works alone.
#   . ha.sh                         (sourced, no arguments) defines the functions only.
#
# Environment: QTSHOP_PG_NODE_1 and QTSHOP_PG_NODE_2, each node's host:port (the names pg-proxy checks);
# node: QTSHOP_PG_NODE_ID (1 or 2) and QTSHOP_PG_REPLICATION_PASSWORD (the role `replicator`, which
# standby-roles.sh creates); sync: PGUSER and PGPASSWORD (the superuser) and QTSHOP_PG_SYNCHRONOUS (true).
set -eu

FENCED=qtshop-fenced

slot_of() { echo "qtshop_node_$1"; }
standby_name_of() { echo "node_$1"; }
other_of() { if [ "$1" = 1 ]; then echo 2; else echo 1; fi; }
address_of() { eval "echo \"\${QTSHOP_PG_NODE_$1:?QTSHOP_PG_NODE_$1 is not set}\""; }
host_of() { a=$(address_of "$1") && echo "${a%:*}"; }
port_of() { a=$(address_of "$1") && echo "${a##*:}"; }
say() { echo "qtshop ha: $*" >&2; }

# Makes node $2 (this container) a standby of node $1, which must be a running primary.
copy_from() {
  src=$1 id=$2 data=${PGDATA:?}
  slot=$(slot_of "$id")
  export PGPASSWORD="${QTSHOP_PG_REPLICATION_PASSWORD:?QTSHOP_PG_REPLICATION_PASSWORD is not set}"
  conn="host=$(host_of "$src") port=$(port_of "$src") user=replicator dbname=postgres connect_timeout=5"
  if ! recovery=$(psql "$conn" -XAtq -c 'select pg_is_in_recovery()'); then
    say "node_$id: cannot log in to node_$src as replicator. On a pg-data volume initialised without" \
      "docker-compose.ha.yml, create the role first: docker compose -f docker-compose.yml -f docker-compose.ha.yml" \
      "exec postgres sh /docker-entrypoint-initdb.d/30-standby-roles.sh"
    exit 1
  fi
  if [ "$recovery" != f ]; then
    say "node_$id: node_$src is not a primary; nothing to copy"
    exit 1
  fi
  say "node_$id: copying node_$src (pg_basebackup through the slot $slot)"
  # A slot left by an earlier standby of this node holds WAL nobody needs; pg_basebackup -C makes a new one.
  psql "$conn" -XAtq -v ON_ERROR_STOP=1 \
    -c "select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = '$slot' and not active" >/dev/null
  mkdir -p "$data"
  chown postgres:postgres "$data"
  chmod 700 "$data"
  gosu postgres pg_basebackup -d "$conn" -D "$data" -X stream -C -S "$slot" --checkpoint=fast
  # The standby's settings (a primary ignores them), replacing the copied ones; and the copied primary's
  # waits, which name this node itself: promoted, it would wait for a standby that is not there.
  auto="$data/postgresql.auto.conf"
  sed -i -E '/^[[:space:]]*(synchronous_standby_names|synchronized_standby_slots|primary_conninfo|primary_slot_name)[[:space:]]*=/d' "$auto"
  cat >>"$auto" <<EOF
primary_conninfo = 'host=$(host_of "$src") port=$(port_of "$src") user=replicator password=$PGPASSWORD application_name=$(standby_name_of "$id") dbname=postgres'
primary_slot_name = '$slot'
EOF
  touch "$data/standby.signal"
  chown postgres:postgres "$auto" "$data/standby.signal"
  unset PGPASSWORD
}

node() {
  id=${QTSHOP_PG_NODE_ID:?QTSHOP_PG_NODE_ID is not set} data=${PGDATA:?}
  other=$(other_of "$id")
  if [ -e "$data/$FENCED" ]; then
    say "node_$id: fenced ($(cat "$data/$FENCED")); sh docker/postgres/failover.sh rebuild makes it the new primary's standby"
    exit 1
  fi
  if [ ! -s "$data/PG_VERSION" ]; then
    if pg_isready -q -h "$(host_of "$other")" -p "$(port_of "$other")" -t 5; then
      copy_from "$other" "$id"
    elif [ "$id" = 1 ]; then
      say "node_1: no data, and node_2 does not answer: a new primary"
    else
      say "node_$id: no data, and node_$other, to copy it from, does not answer"
      exit 1
    fi
  fi
  exec docker-entrypoint.sh "$@"
}

sync_standby() {
  synchronous=${QTSHOP_PG_SYNCHRONOUS:-true}
  case $synchronous in true | false) ;; *) say "QTSHOP_PG_SYNCHRONOUS must be true or false, not $synchronous" && exit 1 ;; esac
  primary='' standby=''
  for id in 1 2; do
    role=$(psql "host=$(host_of "$id") port=$(port_of "$id") dbname=postgres connect_timeout=3" -XAtq -c 'select pg_is_in_recovery()' 2>/dev/null) || role=down
    case $role in
      f) [ -z "$primary" ] || { say "node_$primary and node_$id are both primaries: fence one (docker/postgres/failover.sh)"; exit 1; }; primary=$id ;;
      t) standby=$id ;;
    esac
  done
  [ -n "$primary" ] || { say "no node is a running primary"; exit 1; }
  conn="host=$(host_of "$primary") port=$(port_of "$primary") dbname=postgres connect_timeout=3"
  names='' slots='' streaming=false
  if [ -n "$standby" ]; then
    name=$(standby_name_of "$standby") waited=0
    while [ "$waited" -lt 60 ]; do
      n=$(psql "$conn" -XAtq -c "select count(*) from pg_stat_replication where application_name = '$name' and state = 'streaming'")
      if [ "$n" -gt 0 ]; then streaming=true && break; fi
      sleep 1
      waited=$((waited + 1))
    done
  fi
  if [ "$streaming" = true ]; then
    [ "$synchronous" = false ] || names="\"$(standby_name_of "$standby")\""
    slots=$(slot_of "$standby")
  fi
  psql "$conn" -XAtq -v ON_ERROR_STOP=1 \
    -c "alter system set synchronous_standby_names = '$names'" \
    -c "alter system set synchronized_standby_slots = '$slots'" \
    -c 'select pg_reload_conf()' >/dev/null
  if [ "$streaming" = true ]; then
    say "node_$primary: primary, node_$standby streaming ($([ "$synchronous" = true ] && echo synchronous || echo asynchronous); failover slots through $slots)"
  else
    say "node_$primary: primary without a streaming standby; it works alone"
  fi
}

case "${1:-}" in
  node) shift && node "$@" ;;
  sync) sync_standby ;;
  '') ;;
  *) say "usage: ha.sh node <postgres command> | sync" && exit 2 ;;
esac
