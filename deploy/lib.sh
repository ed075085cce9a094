# deploy/lib.sh — shared by deploy/up, deploy/down and deploy/test.
# Postgres refuses to run as root: as root its cluster runs as the
# postgres user; otherwise as the calling user.

# The newest installed Postgres; empty before bootstrap installed one
# (lib.sh is read first: never fail here), found again when needed.
kz_pgbin() {
  KZ_PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V |
             tail -n 1 || true)
}
kz_pgbin

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

# Postgres authenticates every connection by password (scram-sha-256)
# over a socket directory only its owner can enter; nothing listens on
# TCP. The passwords live in one libpq passfile (0600), generated once:
# the superuser's, and one per role of kz_pg_roles.
KZ_PG_ROLES="kezek_owner kezek_intake kezek_eligibility kezek_queue kezek_notify kezek_report"

# kz_pass_ensure PASSFILE ROLE — a password for ROLE in PASSFILE
kz_pass_ensure() {
  local pass=$1 role=$2
  ( umask 077; touch "$pass" )
  chmod 600 "$pass"
  if ! grep -q "^\*:\*:\*:$role:" "$pass"; then
    echo "*:*:*:$role:$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')" >> "$pass"
  fi
}

# kz_pass_get PASSFILE ROLE
kz_pass_get() {
  grep "^\*:\*:\*:$2:" "$1" | head -n 1 | cut -d: -f5
}

# kz_pg_start DATA_DIR SOCKET_DIR PORT LOGFILE PASSFILE
kz_pg_start() {
  local data=$1 sock=$2 port=$3 log=$4 pass=$5 su
  su=$(kz_pg_user)
  [ -n "$KZ_PGBIN" ] || kz_pgbin
  if [ -z "$KZ_PGBIN" ]; then
    echo "no Postgres server installed (deploy/bootstrap installs it)" >&2
    return 1
  fi
  mkdir -p "$data" "$sock" "$(dirname "$log")" "$(dirname "$pass")"
  chmod 700 "$sock"
  kz_pass_ensure "$pass" "$su"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$data" "$sock" "$(dirname "$log")"
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    local pw
    pw=$(mktemp)
    kz_pass_get "$pass" "$su" > "$pw"
    [ "$(id -u)" -eq 0 ] && chown postgres "$pw"
    kz_as_pg "$KZ_PGBIN/initdb" -D "$data" -A scram-sha-256 --pwfile="$pw" \
      -U "$su" -E UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pw"
    kz_pg_hba "$data"
  fi
  if ! kz_as_pg "$KZ_PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    kz_as_pg "$KZ_PGBIN/pg_ctl" -D "$data" -l "$log" -w -t 60 \
      -o "-k $sock -p $port -c listen_addresses='' -c max_connections=200 \
          -c unix_socket_permissions=0700 \
          -c fsync=${KZ_PG_FSYNC:-on} -c shared_buffers=256MB \
          -c max_wal_size=4GB -c checkpoint_timeout=15min" start >/dev/null
  fi
  if ! grep -q '^# kezek: scram' "$data/pg_hba.conf"; then
    # a cluster of an earlier round trusted every local user (or a run
    # stopped before this marker was written): give the superuser its
    # password through whichever login works — trust, or the password
    # already set — (the SQL on stdin, never on a command line), then
    # require it
    local pf set=0
    for pf in "$pass" /dev/null; do
      if printf 'ALTER ROLE "%s" PASSWORD %s;\n' "$su" \
           "'$(kz_pass_get "$pass" "$su")'" |
         PGPASSFILE=$pf psql -h "$sock" -p "$port" -U "$su" -d postgres \
           -qX -v ON_ERROR_STOP=1 >/dev/null 2>&1; then
        set=1
        break
      fi
    done
    if [ "$set" -eq 0 ]; then
      echo "cannot log in to the Postgres of $data to set its password" >&2
      return 1
    fi
    kz_pg_hba "$data"
    kz_as_pg "$KZ_PGBIN/pg_ctl" -D "$data" reload >/dev/null
  fi
}

kz_pg_hba() {
  printf '%s\n' '# kezek: scram — written by deploy/lib.sh; unix socket only' \
    'local all all scram-sha-256' > "$1/pg_hba.conf"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$1/pg_hba.conf"
  chmod 600 "$1/pg_hba.conf"
}

# kz_pg_roles SOCKET_DIR PORT PASSFILE — the roles of issue 21, with
# their passwords (created, or their passwords set again)
kz_pg_roles() {
  local sock=$1 port=$2 pass=$3 sql="" r
  for r in $KZ_PG_ROLES; do
    kz_pass_ensure "$pass" "$r"
    sql+="DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$r')
      THEN CREATE ROLE $r; END IF; END \$\$;
      ALTER ROLE $r LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE
        PASSWORD '$(kz_pass_get "$pass" "$r")';"
  done
  # on stdin: the passwords never appear on a command line (ps)
  printf '%s\n' "$sql" |
    PGPASSFILE=$pass psql -h "$sock" -p "$port" -U "$(kz_pg_user)" \
      -d postgres -qX -v ON_ERROR_STOP=1 >/dev/null
}

# kz_pg_db SOCKET_DIR PORT PASSFILE DBNAME — the database, owned by
# kezek_owner with everything in it (a database of an earlier round,
# made by the superuser, is handed over)
kz_pg_db() {
  local sock=$1 port=$2 pass=$3 db=$4
  local psu=(psql -h "$sock" -p "$port" -U "$(kz_pg_user)" -qX
             -v ON_ERROR_STOP=1)
  if ! PGPASSFILE=$pass "${psu[@]}" -d postgres -Atc \
       "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
    PGPASSFILE=$pass "${psu[@]}" -d postgres \
      -c "CREATE DATABASE $db OWNER kezek_owner"
    return 0
  fi
  PGPASSFILE=$pass "${psu[@]}" -d "$db" >/dev/null <<'SQL'
ALTER SCHEMA public OWNER TO pg_database_owner;
DO $$
DECLARE r record;
BEGIN
  EXECUTE format('ALTER DATABASE %I OWNER TO kezek_owner', current_database());
  FOR r IN SELECT c.oid::regclass AS n, c.relkind FROM pg_class c
           JOIN pg_namespace s ON s.oid = c.relnamespace
           WHERE s.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
             AND pg_get_userbyid(c.relowner) <> 'kezek_owner'
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid
                             AND d.classid = 'pg_class'::regclass
                             AND d.deptype IN ('a', 'i'))
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO kezek_owner',
      CASE r.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                     WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, r.n);
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS f FROM pg_proc p
           JOIN pg_namespace s ON s.oid = p.pronamespace
           WHERE s.nspname = 'public'
             AND pg_get_userbyid(p.proowner) <> 'kezek_owner'
  LOOP
    EXECUTE format('ALTER FUNCTION %s OWNER TO kezek_owner', r.f);
  END LOOP;
END $$;
SQL
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

# kz_state_dirs STATE — the state directory of deploy/up. Everything in
# it is for its owner alone (keys, passwords, the config, logs, the mail
# sink's Maildir): the umask is 077 for the rest of the calling script
# and what it starts, and an earlier round's directory is tightened.
# Postgres (its own user) may only pass through to its data, socket and
# log directories.
kz_state_dirs() {
  local state=$1
  mkdir -p "$(dirname "$state")" # parents as the umask of the caller
  umask 077
  mkdir -p "$state/run" "$state/log" "$state/keys" \
    "$state/mail/tmp" "$state/mail/new" "$state/mail/cur"
  # not into the data of the engines that run there (Postgres, etcd,
  # Redis keep their own modes, and their files come and go under a
  # recursive chmod, which then fails); the directories themselves are
  # tightened one by one, and that must succeed
  find "$state" \( -path "$state/pg" -o -path "$state/etcd" -o \
    -path "$state/redis" \) -prune -o -perm /077 -exec chmod go-rwx {} + \
    2>/dev/null || true
  chmod go-rwx "$state" "$state/run" "$state/log" "$state/keys" "$state/mail"
  if [ "$(id -u)" -eq 0 ] && id postgres >/dev/null 2>&1; then
    chgrp postgres "$state" "$state/log"
    chmod 710 "$state" "$state/log"
  fi
}

# kz_stop_service PIDFILE — TERM to the supervisor it names (which
# forwards it: the service commits its batch and exits), waits up to
# 10 s, forgets the pid file
kz_stop_service() {
  local pidf=$1
  [ -f "$pidf" ] || return 0
  kill -TERM "$(cat "$pidf")" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$(cat "$pidf")" 2>/dev/null || break
    sleep 0.1
  done
  rm -f "$pidf"
}

# kz_build DIR [cmake args...]
kz_build() {
  local dir=$1; shift
  cmake -S "$KZ_ROOT" -B "$dir" "$@" >/dev/null
  cmake --build "$dir" -j "$(nproc)" >/dev/null
}

# kz_free_ports N [RUN] — prints N free loopback TCP ports, then the first
# of RUN (default 1) consecutive free ones (the bus endpoints of one
# deployment), on one line.
kz_free_ports() {
  python3 - "$1" "${2:-1}" <<'PY'
import socket, sys
def ok(p):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
        return True
    except OSError:
        return False
    finally:
        s.close()
def free(run=1):
    while True:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        p = s.getsockname()[1]
        s.close()
        if p + run < 65535 and all(ok(p + i) for i in range(run)):
            return p
print(*[free() for _ in range(int(sys.argv[1]))], free(int(sys.argv[2])))
PY
}

# kz_up_free STATE — deploy/up on free ports into STATE (its output in
# STATE/up.out); exports the ports (KEZEK_EDGE_PORT, …) for the caller.
kz_up_free() {
  local state=$1 p
  local k
  read -r -a p < <(kz_free_ports 7 4)
  # a second run of 4 for Kannel, apart from the bus's
  for _ in 1 2 3 4 5; do
    read -r k < <(kz_free_ports 0 4)
    [ "$k" -ge $((p[7] + 4)) ] || [ $((k + 4)) -le "${p[7]}" ] && break
  done
  export KEZEK_EDGE_PORT=${p[0]} KEZEK_INTAKE_PORT=${p[1]} \
    KEZEK_ELIGIBILITY_PORT=${p[2]} KEZEK_QUEUE_PORT=${p[3]} \
    KEZEK_NOTIFY_PORT=${p[4]} KEZEK_SMTP_PORT=${p[5]} KEZEK_PG_PORT=${p[6]} \
    KEZEK_BUS_BASE_PORT=${p[7]} KEZEK_KANNEL_BASE_PORT=$k
  "$KZ_ROOT/deploy/up" --state "$state" > "$state/up.out" 2>&1 ||
    { cat "$state/up.out" >&2; return 1; }
}

# kz_deployment_data BIN STATE SERVICE… — what deploy/up and deploy/up
# --ha put into a deployment once KEZEK_CONFIG names its configuration:
# the bus's key pairs, the schema, the reference data, the subsistence
# minimum, the demo registry, the signing keys, and the demo's employees,
# one per kind of principal (STATE/keys/tokens, a NAME=TOKEN line each; a
# state from an earlier round gets the kinds it lacks)
kz_deployment_data() {
  local bin=$1 state=$2
  shift 2
  "$bin/kezek" keys generate-bus "$state/keys/bus" "$@"
  "$bin/kezek" migrate
  "$bin/kezek" import-reference "$KZ_ROOT/reference" >/dev/null
  "$bin/kezek" subsistence-minimum import \
    "$KZ_ROOT/data/subsistence_minimum.jsonl" >/dev/null
  # appendix 4: the operator's defaults, where nothing is set yet
  "$bin/kezek" indicators import "$KZ_ROOT/data/indicators.json" \
    --missing-only >/dev/null
  "$bin/kezek" registry import \
    "$KZ_ROOT/tests/fixtures/demo_registry.jsonl" >/dev/null
  [ -f "$state/keys/notify.key" ] ||
    "$bin/kezek" keys generate "$state/keys/notify.key" >/dev/null
  mkdir -p "$state/keys/authorities"
  "$bin/kezek" keys generate-authorities "$state/keys/authorities" >/dev/null
  touch "$state/keys/tokens"
  local t
  while IFS='|' read -r name principal employee; do
    grep -q "^$name=" "$state/keys/tokens" && continue
    t=$("$bin/kezek" tokens add "$principal" ${employee:+--employee "$employee"} </dev/null |
        tail -n 1)
    echo "$name=$t" >> "$state/keys/tokens"
  done <<'TOKENS'
office|office:a-01-02|Demo Employee (office a-01-02)
portal|portal|
ops|ops|Demo Operator
centre|centre:c-01-1-1|Demo Operator (centre c-01-1-1)
appeal|appeal:ap-01-01|Demo Officer (appeal instance ap-01-01)
supervisor|supervisor:r-01|Demo Supervisor (region r-01)
head|head:a-01-02|Demo Head (head of a-01-02)
TOKENS
}
