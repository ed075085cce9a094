# deploy/lib.sh — shared by deploy/up, deploy/down and deploy/test.
# Postgres refuses to run as root: as root its cluster runs as the
# postgres user; otherwise as the calling user.

KZ_PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

kz_as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

kz_pg_user() {
  if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi
}

# kz_pg_start DATA_DIR SOCKET_DIR PORT LOGFILE
kz_pg_start() {
  local data=$1 sock=$2 port=$3 log=$4
  mkdir -p "$data" "$sock" "$(dirname "$log")"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$data" "$sock" "$(dirname "$log")"
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    kz_as_pg "$KZ_PGBIN/initdb" -D "$data" -A trust -U "$(kz_pg_user)" \
      -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if kz_as_pg "$KZ_PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    return 0
  fi
  kz_as_pg "$KZ_PGBIN/pg_ctl" -D "$data" -l "$log" -w -t 60 \
    -o "-k $sock -p $port -c listen_addresses='' -c max_connections=200 \
        -c fsync=${KZ_PG_FSYNC:-on} -c shared_buffers=256MB \
        -c max_wal_size=4GB -c checkpoint_timeout=15min" start >/dev/null
}

kz_pg_stop() {
  local data=$1
  if [ -f "$data/postmaster.pid" ]; then
    kz_as_pg "$KZ_PGBIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
  fi
}

# kz_redis_start DIR SOCKET
kz_redis_start() {
  local dir=$1 sock=$2
  mkdir -p "$dir"
  if [ -S "$sock" ] && redis-cli -s "$sock" ping >/dev/null 2>&1; then
    return 0
  fi
  redis-server --port 0 --unixsocket "$sock" --unixsocketperm 700 \
    --dir "$dir" --daemonize yes --pidfile "$dir/redis.pid" \
    --logfile "$dir/redis.log" --databases 256 --save "" \
    --appendonly no >/dev/null
  for _ in $(seq 1 50); do
    redis-cli -s "$sock" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "redis did not start; see $dir/redis.log" >&2
  return 1
}

kz_redis_stop() {
  local dir=$1
  if [ -f "$dir/redis.pid" ]; then
    kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
    rm -f "$dir/redis.pid"
  fi
}

# kz_build DIR [cmake args...]
kz_build() {
  local dir=$1; shift
  cmake -S "$KZ_ROOT" -B "$dir" "$@" >/dev/null
  cmake --build "$dir" -j "$(nproc)" >/dev/null
}
