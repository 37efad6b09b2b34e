#!/bin/sh
# Installs the Debian packages Tailor builds and runs with, only when one is missing.
# Idempotent and silent when everything is already there; called by the Makefile and CI.
set -eu

PKGS="build-essential cmake pkg-config \
libsqlite3-dev zlib1g-dev libopenblas-dev liblapacke-dev \
libjansson-dev libcmocka-dev libstemmer-dev \
libmicrohttpd-dev libsodium-dev libcurl4-openssl-dev libyaz-dev yaz libpq-dev postgresql \
libopenmpi-dev openmpi-bin \
python3 \
clang libclang-rt-dev libomp-dev \
chromium"
# clang, its runtime libraries (libFuzzer, sanitizers: only recommended by clang, and
# recommends are not installed here) and libomp-dev (its OpenMP) build scripts/fuzz.sh.
# yaz (yaz-marcdump) counts the MARC fixtures' records in tests/integration/test_cli_marc.c and
# parses the benchmark's catalogue beside `tailor import marc` (bench/marc_import.sh).
# libopenmpi-dev and openmpi-bin (mpirun) build and test distributed training (tailor train
# --distributed, tests/integration/test_ials_mpi.c; without them the build leaves MPI out and
# the test skips).
# postgresql: the server the PostgreSQL store's tests start for themselves (initdb, pg_ctl in
# /usr/lib/postgresql/<major>/bin; as root they run as nobody); libpq-dev is the client.
# chromium renders the HTML audit report headless in tests/integration/test_cli_audit.c (the
# test skips, saying so, where it is missing).

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "deps: installing$missing" >&2
if [ "${TL_APT_UPDATE:-0}" = 1 ] || [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v lock)" ]; then
    $SUDO apt-get update -qq >&2
fi
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >&2 || {
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >&2
}
