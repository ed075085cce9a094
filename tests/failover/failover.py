#!/usr/bin/env python3
"""The failover test of the HA topology (issue 20), run by tests/failover/run
against a deployment that deploy/up --ha has just started.

Several clients submit applications through the edge (TLS) without pause,
each retrying a failed submission with the same Idempotency-Key until it
is accepted, then reading it back. Meanwhile, in turn: the machine of the
Postgres leader is killed (SIGKILL to its supervisor, Patroni and
Postgres), then the Redis master, then one instance of each service; then
everything killed is brought back (deploy/up --ha). Afterwards it checks
(p.5, p.7, p.14 and the contract's "never lose a record"):
  - every accepted application is stored (0 lost);
  - each list's numbers are 1..n without gap or repeat;
  - exactly one result notice per application, at most one e-mail;
  - the positions in Redis equal Postgres (kezek rebuild-positions --verify);
  - every killed part is back: three Patroni members running with a
    synchronous standby, a Redis master with its replica, every instance
    of every service ready.
It prints, per kill, the seconds to the first successful write and read
after it, and how many client requests failed (each succeeded on retry).
"""
import argparse
import email.parser
import glob
import json
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

ap = argparse.ArgumentParser()
ap.add_argument("--root", required=True)
ap.add_argument("--state", required=True)
ap.add_argument("--offset", type=int, required=True)
ap.add_argument("--clients", type=int, default=4)
A = ap.parse_args()
O = A.offset
EDGE = f"https://127.0.0.1:{8443 + O}"
REST = [8108 + O, 8109 + O, 8110 + O]
PG = [5541 + O, 5542 + O, 5543 + O]
REDIS = [6479 + O, 6480 + O]
SENTINELS = [26479 + O, 26480 + O, 26481 + O]
SVCS = ["intake", "eligibility", "queue", "notify"]
HTTP = {s: (8180 + O + i, 8280 + O + i) for i, s in enumerate(SVCS)}
ENV = dict(os.environ, KEZEK_CONFIG=f"{A.state}/kezek.conf",
           PGPASSFILE=f"{A.state}/keys/pgpass",
           REDISCLI_AUTH=open(f"{A.state}/keys/redis.pass").read().strip())
CTX = ssl.create_default_context(cafile=f"{A.state}/keys/edge.crt")
TOKENS = dict(l.strip().split("=", 1) for l in open(f"{A.state}/keys/tokens")
              if "=" in l)
OFFICE = TOKENS["office"]
T0 = time.monotonic()
failures = []


def now():
    return time.monotonic() - T0


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def iin(serial):
    """A valid IIN born 1979-10-28 (the checksum of the standard's IIN)."""
    for c in range(10):
        s = f"7910283{serial:04d}{c}"
        d = [int(x) for x in s]
        k = sum(d[i] * (i + 1) for i in range(11)) % 11
        if k == 10:
            w = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]
            k = sum(d[i] * w[i] for i in range(11)) % 11
            if k == 10:
                continue
        if k == d[11]:
            return s
    return None


def http(method, path, body=None, key=None, timeout=10):
    h = {"Authorization": "Bearer " + OFFICE}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    if key:
        h["Idempotency-Key"] = key
    req = urllib.request.Request(EDGE + path, data=data, headers=h,
                                 method=method)
    try:
        with urllib.request.urlopen(req, context=CTX, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, None
    except Exception:  # connection refused, reset, timeout: a failure
        return 0, None


def sql(q, role="kezek_report"):
    conn = (f"host=127.0.0.1,127.0.0.1,127.0.0.1 port={','.join(map(str, PG))}"
            f" dbname=kezek user={role} target_session_attrs=read-write"
            " connect_timeout=3")
    out = subprocess.run(["psql", conn, "-XAtqc", q], env=ENV,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip())
    return [l.split("|") for l in out.stdout.splitlines() if l]


# --- the citizens of the load: in the registry, living in s-01-02 ---------
N_PEOPLE = 3000
people = [iin(n) for n in range(1, N_PEOPLE + 1)]
people = [p for p in people if p]
fixture = f"{A.state}/failover_registry.jsonl"
with open(fixture, "w") as f:
    for p in people:
        f.write(json.dumps({"kind": "person", "iin": p, "surname": "Failover",
                            "given_name": "Client", "birth_date": "1979-10-28",
                            "citizen": True, "settlement_id": "s-01-02",
                            "registered_since": "2001-01-01",
                            "disability_group": None}) + "\n")
        # the veterans' record of the wwii category claimed (issue 22)
        f.write(json.dumps({"kind": "social_status", "iin": p,
                            "status": "wwii_participant", "group": None,
                            "since": "2000-01-01", "until": None}) + "\n")
subprocess.run([f"{A.root}/build/kezek", "registry", "import", fixture],
               env=ENV, check=True, stdout=subprocess.DEVNULL)

# --- the load -------------------------------------------------------------
events = []          # (sent, answered, "write"|"read", ok)
acked = {}           # application id -> key
unexpected = []      # answers no retry can cure
lock = threading.Lock()
stop = threading.Event()
next_person = iter(range(len(people)))


def client():
    while not stop.is_set():
        with lock:
            n = next(next_person, None)
        if n is None:
            return
        key = f"failover-{n}"
        body = {"applicant": {"iin": people[n], "surname": "Failover",
                              "given_name": "Client",
                              "phone": "+77010000000",
                              "email": f"client{n}@example.kz"},
                "settlement_id": "s-01-02", "authority_id": "a-01-02",
                "fund": "communal", "category": "wwii", "need_grounds": [1],
                "documents": [{"code": "application_form", "pages": 1}]}
        while True:  # a client retries with its key until accepted
            sent = now()
            st, r = http("POST", "/v1/applications", body, key)
            with lock:
                events.append((sent, now(), "write", st in (200, 202)))
            if st in (200, 202):
                with lock:
                    acked[r["application_id"]] = key
                break
            if st not in (0, 429, 500, 502, 503, 504):
                with lock:
                    unexpected.append((key, st))
                break
            time.sleep(0.3)
        if st not in (200, 202):
            continue
        while not stop.is_set():  # and reads it back
            sent = now()
            st, _ = http("GET", "/v1/applications/" + r["application_id"])
            with lock:
                events.append((sent, now(), "read", st == 200))
            if st == 200:
                break
            time.sleep(0.3)


threads = [threading.Thread(target=client, daemon=True)
           for _ in range(A.clients)]
for t in threads:
    t.start()


def wait(what, cond, secs):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        try:
            if cond():
                return True
        except Exception:
            pass
        time.sleep(0.2)
    check(False, f"{what} within {secs} s")
    return False


def rest(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}",
                                    timeout=2) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, None


def leader():
    for i, p in enumerate(REST):
        try:
            if rest(p, "/primary")[0] == 200:
                return i
        except Exception:
            pass
    return None


def pid(path):
    try:
        return int(open(path).read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def kill(p, sig=signal.SIGKILL):
    if p:
        try:
            os.kill(p, sig)
        except ProcessLookupError:
            pass


def children(p):
    out = subprocess.run(["pgrep", "-P", str(p)], capture_output=True,
                         text=True).stdout.split()
    return [int(x) for x in out]


def first_after(t, kind):
    """Seconds from t to the answer of the first request of kind sent
    after t that succeeded (one in flight at t proves nothing)."""
    with lock:
        ok = [e[1] for e in events if e[2] == kind and e[3] and e[0] > t]
    return round(min(ok) - t, 2) if ok else None


kills = []
time.sleep(8)

# 1. the Postgres leader's machine: its supervisor (no restart), Patroni
#    and Postgres, all SIGKILL
old = leader()
check(old is not None, "a Postgres leader before the kill")
node = old + 1
sup = pid(f"{A.state}/run/patroni{node}.pid")
patroni = children(sup) if sup else []
postmaster = pid(f"{A.state}/pg/node{node}/postmaster.pid")
t = now()
kill(sup)
for p in patroni:
    kill(p)
kill(postmaster)
wait("another node promoted", lambda: leader() not in (None, old), 60)
t_promoted = round(now() - t, 2)
wait("a write after the Postgres failover",
     lambda: first_after(t, "write") is not None, 60)
wait("a read after the Postgres failover",
     lambda: first_after(t, "read") is not None, 60)
kills.append({"killed": f"Postgres leader pg{node} (Patroni and Postgres)",
              "promoted_s": t_promoted, "t": t})
time.sleep(5)

# 2. the Redis master; a Sentinel promotes the replica
def redis_master():
    out = subprocess.run(["redis-cli", "-p", str(SENTINELS[0]), "sentinel",
                          "get-master-addr-by-name", "kezek"],
                         capture_output=True, text=True,
                         env=ENV).stdout.split()
    return int(out[1]) if len(out) == 2 else None


m = redis_master()
check(m in REDIS, "a Redis master before the kill")
t = now()
kill(pid(f"{A.state}/redis/redis{REDIS.index(m) + 1}.pid"))
wait("the Redis replica promoted", lambda: redis_master() not in (None, m),
     60)
kills.append({"killed": f"Redis master :{m}",
              "promoted_s": round(now() - t, 2), "t": t})
wait("a write after the Redis failover",
     lambda: first_after(t, "write") is not None, 60)
time.sleep(5)

# 3. one instance of each service (its supervisor restarts it)
t = now()
for s in SVCS:
    for c in children(pid(f"{A.state}/run/{s}-1.pid") or 0):
        kill(c)
kills.append({"killed": "one instance of each service", "t": t})
wait("a write after the services' kill",
     lambda: first_after(t, "write") is not None, 60)
time.sleep(5)

# 4. everything back: deploy/up --ha starts what is not running
t_back = now()
up = subprocess.run([f"{A.root}/deploy/up", "--ha", "--state", A.state],
                    env=dict(os.environ), capture_output=True, text=True)
check(up.returncode == 0, "deploy/up --ha brings the killed parts back")
if up.returncode != 0:
    print(up.stdout[-1500:] + up.stderr[-1500:], file=sys.stderr)
print("".join("  " + l + "\n" for l in up.stderr.splitlines()
              if l.startswith("up --ha: +")), end="", flush=True)
t_up = round(now() - t_back, 2)


def cluster_whole():
    members = rest(REST[0] if old != 0 else REST[1], "/cluster")[1]["members"]
    roles = sorted(m["role"] for m in members
                   if m["state"] in ("running", "streaming"))
    return len(roles) == 3 and "sync_standby" in roles and \
        ("leader" in roles or "master" in roles)


if not wait("three Patroni members running, one a synchronous standby",
            cluster_whole, 150):
    # what each member says, and the end of the returned node's log
    for port in REST:
        try:
            print(f"  REST {port}: {json.dumps(rest(port, '/patroni')[1])[:400]}",
                  file=sys.stderr)
        except Exception as e:
            print(f"  REST {port}: {e}", file=sys.stderr)
    try:
        print("  cluster: " + json.dumps(rest(REST[(old + 1) % 3],
                                              "/cluster")[1]), file=sys.stderr)
    except Exception as e:
        print(f"  cluster: {e}", file=sys.stderr)
    with open(f"{A.state}/log/patroni{node}.log", errors="replace") as f:
        print("".join(f.readlines()[-40:]), file=sys.stderr)
t_cluster = round(now() - t_back, 2)


def redis_whole():
    p = redis_master()
    info = subprocess.run(["redis-cli", "-p", str(p), "info", "replication"],
                          capture_output=True, text=True, env=ENV).stdout
    return "role:master" in info and "connected_slaves:1" in info


wait("a Redis master with its replica", redis_whole, 60)
time.sleep(3)
stop.set()
for th in threads:
    th.join(30)

# --- the checks -------------------------------------------------------------
print(f"load: {len(acked)} applications accepted", flush=True)
check(not unexpected, f"no answer that a retry cannot cure ({unexpected[:3]})")
ids = list(acked)


def all_decided():
    rows = sql("SELECT count(*) FROM application_status WHERE status IN "
               "('registered', 'refused')")
    return int(rows[0][0]) >= len(ids)


wait("every accepted application decided and numbered", all_decided, 120)
stored = set()
for i in range(0, len(ids), 500):
    part = ",".join(f"'{x}'" for x in ids[i:i + 500])
    stored |= {r[0] for r in sql(f"SELECT id FROM application WHERE id IN ({part})")}
check(len(stored) == len(ids),
      f"0 accepted applications lost ({len(ids) - len(stored)} missing)")
bad = sql("SELECT authority_id, list, count(*), max(number),"
          " count(DISTINCT number) FROM queue_entry GROUP BY 1, 2"
          " HAVING count(*) <> max(number) OR count(*) <> count(DISTINCT number)")
check(not bad, f"each list numbered 1..n, no gap, no repeat ({bad})")
numbered = int(sql("SELECT count(*) FROM queue_entry")[0][0])
registered = int(sql("SELECT count(*) FROM application_status"
                     " WHERE status = 'registered'")[0][0])
check(numbered >= registered > 0, f"every registration numbered "
      f"({numbered} entries, {registered} registered)")


def notices_done():
    return int(sql("SELECT count(DISTINCT application_id) FROM notice WHERE"
                   " kind IN ('registration_notice', 'refusal')")[0][0]) \
        >= len(ids)


wait("a result notice for every application", notices_done, 60)
dup = sql("SELECT application_id FROM notice WHERE kind IN"
          " ('registration_notice', 'refusal') GROUP BY 1"
          " HAVING count(*) > 1")
check(not dup, "exactly one result notice per application")
time.sleep(5)  # the mailer's last sends
seen, dups = {}, 0
for f in glob.glob(f"{A.state}/mail/new/*") + glob.glob(f"{A.state}/mail/cur/*"):
    with open(f, "rb") as fh:
        mid = email.parser.BytesHeaderParser().parse(fh).get("Message-ID")
    dups += mid in seen
    seen[mid] = f
check(dups == 0, f"at most one e-mail per notice ({len(seen)} sent, "
      f"{dups} duplicates)")
v = subprocess.run([f"{A.root}/build/kezek", "rebuild-positions", "--verify"],
                   env=ENV, capture_output=True, text=True)
check(v.returncode == 0, "positions in Redis equal Postgres "
      f"(rebuild-positions --verify: {v.stdout.strip()[-200:]}"
      f"{v.stderr.strip()[-200:]})")
for s in SVCS:
    for port in HTTP[s]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz",
                                        timeout=3) as r:
                ok = r.status == 200
        except Exception:
            ok = False
        check(ok, f"kezek-{s} on {port} ready")

with lock:
    failed_writes = sum(1 for e in events if e[2] == "write" and not e[3])
    failed_reads = sum(1 for e in events if e[2] == "read" and not e[3])
for k in kills:
    k["first_write_s"] = first_after(k["t"], "write")
    k["first_read_s"] = first_after(k["t"], "read")
    del k["t"]
print(json.dumps({"accepted": len(ids), "clients": A.clients,
                  "failed_requests_retried": {"writes": failed_writes,
                                              "reads": failed_reads},
                  "kills": kills,
                  "back": {"deploy_up_s": t_up,
                           "patroni_whole_s": t_cluster}},
                 ensure_ascii=False, indent=1))
if failures:
    print("failover: FAILED — " + "; ".join(failures), file=sys.stderr)
    sys.exit(1)
print("failover: passed")
