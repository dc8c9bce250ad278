#!/usr/bin/env bash
# The official postgres image's entrypoint, reduced to what docker-compose.yml uses:
# started as root it takes ownership of the data folder and re-runs itself as postgres;
# on an empty data folder it runs initdb with POSTGRES_PASSWORD (scram-sha-256 over TCP,
# trust on the local socket, as the official image), then runs
# /docker-entrypoint-initdb.d/*.sql and *.sh against a server that listens on the unix
# socket only (so a TCP pg_isready stays "no response" until the databases exist), and
# finally starts the server listening on every address.
set -Eeuo pipefail

if [ "${1:0:1}" = '-' ]; then
    set -- postgres "$@"
fi

if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA"
    chown postgres:postgres "$PGDATA"
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
    : "${POSTGRES_PASSWORD:?the stand-in, like the official image, needs POSTGRES_PASSWORD}"
    user="${POSTGRES_USER:-postgres}"
    initdb --username="$user" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
        --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 \
        -D "$PGDATA" >/dev/null
    # Other containers connect from the compose network, not from 127.0.0.1.
    printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
    printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    for f in /docker-entrypoint-initdb.d/*; do
        case "$f" in
        *.sql)
            echo "docker-entrypoint.sh: running $f"
            psql -v ON_ERROR_STOP=1 --username "$user" --no-password --dbname postgres -f "$f"
            ;;
        *.sh)
            echo "docker-entrypoint.sh: running $f"
            # shellcheck disable=SC1090
            . "$f"
            ;;
        *) ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    echo "docker-entrypoint.sh: PostgreSQL init process complete; ready for start up."
fi

exec "$@"
