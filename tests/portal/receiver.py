#!/usr/bin/env python3
"""tests/portal/receiver.py PORT SECRET_FILE LOG — a portal's callback
endpoint for the tests (issue 23), as docs/operations.md tells the portal
to write one: it checks X-Kezek-Signature (HMAC-SHA256 with the shared
secret over the Date header, a line feed and the body) and that Date is
within 5 minutes of its clock, and keeps each document once by its
delivery id (X-Kezek-Delivery), acknowledging a repeat with 200.

To test the sender, it misbehaves on purpose, per delivery id: the first
request gets 500, the second is kept and then answered only after 3 s
(the sender has given up by then and tries again), the third and later
get 200. Each request is one JSON line in LOG: {"delivery_id", "attempt",
"outcome": failed | kept_slow | kept | duplicate | bad_signature |
stale_date | bad_body}.
"""
import email.utils
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, SECRET_FILE, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(SECRET_FILE) as f:
    SECRET = f.readline().rstrip("\r\n").encode()
lock = threading.Lock()
attempts = {}
kept = set()


def log(entry):
    with lock, open(LOG, "a") as f:
        f.write(json.dumps(entry) + "\n")


class Handler(BaseHTTPRequestHandler):
    def answer(self, code):
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        date = self.headers.get("Date", "")
        did = self.headers.get("X-Kezek-Delivery", "")
        want = "sha256=" + hmac.new(SECRET, date.encode() + b"\n" + body,
                                    hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want,
                                   self.headers.get("X-Kezek-Signature", "")):
            log({"delivery_id": did, "outcome": "bad_signature"})
            return self.answer(401)
        try:
            sent = email.utils.parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            sent = 0
        if abs(time.time() - sent) > 300:
            log({"delivery_id": did, "outcome": "stale_date"})
            return self.answer(401)
        try:
            doc = json.loads(body)
            ok = doc["delivery_id"] == did and "document" in doc
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            log({"delivery_id": did, "outcome": "bad_body"})
            return self.answer(400)
        with lock:
            n = attempts[did] = attempts.get(did, 0) + 1
            new = did not in kept
        if n == 1:
            log({"delivery_id": did, "attempt": n, "outcome": "failed"})
            return self.answer(500)
        if not new:
            log({"delivery_id": did, "attempt": n, "outcome": "duplicate"})
            return self.answer(200)
        with lock:
            kept.add(did)
        if n == 2:
            log({"delivery_id": did, "attempt": n, "outcome": "kept_slow",
                 "kind": doc.get("kind")})
            time.sleep(3)
            return self.answer(200)
        log({"delivery_id": did, "attempt": n, "outcome": "kept",
             "kind": doc.get("kind")})
        return self.answer(200)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
