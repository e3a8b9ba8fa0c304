#!/bin/bash
# pg-proxy's healthcheck (docker-compose.ha.yml), in the haproxy image, which has bash and coreutils but no
# PostgreSQL client: healthy when a connection to the proxy's address reaches a primary. It speaks the wire
# protocol as the proxy's own check does (docker/haproxy/pg-primary.cfg): logs in as qtshop_check to the
# postgres database (application_name pg-proxy-healthcheck), runs `select pg_is_in_recovery()`, terminates,
# and expects the one-column row 'f'. With no node up behind it, the proxy closes the connection at once.
set -eu
startup=00000053000300007573657200717473686f705f636865636b00646174616261736500706f737467726573006170706c69636174696f6e5f6e616d650070672d70726f78792d6865616c7468636865636b0000
query=510000001f73656c6563742070675f69735f696e5f7265636f76657279282900
terminate=5800000004
not_in_recovery=440000000b00010000000166

# The port the proxy binds (QTSHOP_PG_BIND, host:port).
bind=${QTSHOP_PG_BIND:?}
exec 3<>"/dev/tcp/127.0.0.1/${bind##*:}"
printf "$(sed 's/../\\x&/g' <<<"$startup$query$terminate")" >&3
reply=$(od -An -v -tx1 <&3 | tr -d ' \n')
[[ $reply == *"$not_in_recovery"* ]]
