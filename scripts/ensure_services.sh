#!/usr/bin/env bash
# Make sure what the tests talk to is there: Redis on 127.0.0.1:6379, Debian's chromium and
# chromedriver for the browser test, and (with --postgres) PostgreSQL on 127.0.0.1:5432 with an
# `idsvc_test` database.  Installs from Debian's packages when missing; starts what is stopped.
set -euo pipefail

want_pg=0
[[ "${1:-}" == "--postgres" ]] && want_pg=1

apt_updated=0
apt_install() {
  if [[ $apt_updated == 0 ]]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! command -v redis-server >/dev/null; then apt_install redis-server; fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/idsvc-tests.log
  for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  apt_install chromium chromium-driver
fi
if ! command -v ffmpeg >/dev/null; then apt_install ffmpeg; fi
# Real CJK fonts for the synthetic seals of the seal-text tests (tests/factories/documents_seals.py).
if [[ ! -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc || ! -e /usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc ]]; then
  apt_install fonts-wqy-zenhei fonts-noto-cjk
fi

if [[ $want_pg == 1 ]]; then
  if ! command -v pg_ctlcluster >/dev/null; then
    apt_install postgresql
  fi
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    version=$(ls /etc/postgresql | sort -V | tail -1)
    hba=/etc/postgresql/$version/main/pg_hba.conf
    # A fresh cluster asks for passwords on TCP; the tests connect as postgres over loopback only.
    if ! grep -q "idsvc-tests" "$hba"; then
      sed -i '1i host all all 127.0.0.1/32 trust # idsvc-tests\nhost all all ::1/128 trust # idsvc-tests' "$hba"
    fi
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
    for _ in $(seq 100); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.1; done
  fi
  psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='idsvc_test'" | grep -q 1 \
    || psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE idsvc_test" >/dev/null
fi
