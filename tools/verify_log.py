#!/usr/bin/env python3
"""verify_log.py — a second, independent verifier of Kezek's queue
transparency logs, written from docs/transparency.md alone, with nothing
but Python's standard library (issue 24).

  tools/verify_log.py --url BASE [--keys-url BASE] [--authority ID]...
  tools/verify_log.py --url BASE [--keys-url BASE] --notice FILE

Checks every signed tree head (Ed25519, RFC 8032), every leaf's form,
the tree recomputed from the leaves against every signed root (RFC 9162
section 2.1) and, for a citizen's notice, the commitment to the IIN, the
inclusion of the leaf in the newest tree and the consistency of that tree
with the notice's. Exit status: 0 verified, 1 a check failed, 2 usage,
3 the service could not be read.
"""
import argparse
import base64
import hashlib
import hmac
import json
import sys
import urllib.request

# ---- Ed25519 verification (RFC 8032 section 6, the reference code) ----

P = 2 ** 255 - 19
L = 2 ** 252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
I_ = pow(2, (P - 1) // 4, P)


def _add(a, b):
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    A = (y1 - x1) * (y2 - x2) % P
    B = (y1 + x1) * (y2 + x2) % P
    C = t1 * 2 * D * t2 % P
    Dd = z1 * 2 * z2 % P
    E, F, G, H = B - A, Dd - C, Dd + C, B + A
    return (E * F % P, G * H % P, F * G % P, E * H % P)


def _mul(s, p):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _add(q, p)
        p = _add(p, p)
        s >>= 1
    return q


def _equal(a, b):
    x1, y1, z1, _ = a
    x2, y2, z2, _ = b
    return (x1 * z2 - x2 * z1) % P == 0 and (y1 * z2 - y2 * z1) % P == 0


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P)
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * I_ % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


GY = 4 * pow(5, P - 2, P) % P
GX = _recover_x(GY, 0)
G = (GX, GY, 1, GX * GY % P)


def _decompress(s):
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % P)


def ed25519_verify(public, msg, sig):
    if len(public) != 32 or len(sig) != 64:
        return False
    A = _decompress(public)
    Rp = _decompress(sig[:32])
    if A is None or Rp is None:
        return False
    s = int.from_bytes(sig[32:], "little")
    if s >= L:
        return False
    h = int.from_bytes(hashlib.sha512(sig[:32] + public + msg).digest(),
                       "little") % L
    return _equal(_mul(s, G), _add(Rp, _mul(h, A)))


# ---- RFC 9162 -------------------------------------------------------

def leaf_hash(entry):
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_of(stack):
    """The root from the right edge: [(size of subtree, hash)], left to
    right."""
    if not stack:
        return hashlib.sha256(b"").digest()
    r = stack[-1][1]
    for _, h in reversed(stack[:-1]):
        r = node_hash(h, r)
    return r


def push(stack, h):
    stack.append((1, h))
    while len(stack) >= 2 and stack[-1][0] == stack[-2][0]:
        (n, right), (_, left) = stack.pop(), stack.pop()
        stack.append((2 * n, node_hash(left, right)))


def verify_inclusion(index, size, leaf, path, root):
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(m, n, root_m, root_n, path):
    if m > n:
        return False
    if m == n:
        return not path and root_m == root_n
    if m == 0:
        return not path
    if not path:
        return False
    if m & (m - 1) == 0:
        path = [root_m] + list(path)
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for p in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(p, fr)
            sr = node_hash(p, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == root_m and sr == root_n


# ---- the format (docs/transparency.md) --------------------------------

PLAIN = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
            "0123456789_.:-")


def leaf_form(f):
    """The one byte form of a leaf with fields f."""
    reason = "null" if f["reason"] is None else '"%s"' % f["reason"]
    return ('{"v":1,"authority_id":"%s","list":"%s","number":%d,"seq":%d,'
            '"event":"%s","cause":"%s","reason":%s,"date":"%s",'
            '"commitment":"%s"}' % (f["authority_id"], f["list"],
                                    f["number"], f["seq"], f["event"],
                                    f["cause"], reason, f["date"],
                                    f["commitment"])).encode()


def parse_leaf(entry):
    f = json.loads(entry)
    for k in ("authority_id", "list", "cause"):
        if not f[k] or not set(f[k]) <= PLAIN:
            raise ValueError(k)
    if f["event"] not in ("registered", "removed") or f["v"] != 1:
        raise ValueError("event")
    if leaf_form(f) != entry:
        raise ValueError("not the one form of v1")
    return f


def sth_message(s):
    return ("kezek-tlog-v1\n%s\n%d\n%s\n%d\n" % (
        s["authority_id"], s["tree_size"], s["root_hash"],
        s["timestamp_ms"])).encode()


class Monitor:
    def __init__(self, url, keys_url):
        self.url, self.failures = url.rstrip("/"), 0
        keys = self.get((keys_url or url).rstrip("/") + "/v1/reference/keys")
        self.keys = {k["key_id"]: k for k in keys["keys"]}

    def get(self, url):
        with urllib.request.urlopen(url, timeout=60) as r:
            return json.load(r)

    def log(self, path):
        return self.get(self.url + "/v1/transparency/" + path)

    def fail(self, msg):
        print("FAIL", msg)
        self.failures += 1

    def signed(self, s):
        k = self.keys.get(s["key_id"])
        if not k or k.get("authority_id") not in (None, "",
                                                   s["authority_id"]):
            return False
        return ed25519_verify(base64.b64decode(k["public_key"]),
                              sth_message(s),
                              base64.b64decode(s["signature"]))

    def authority(self, a):
        top = self.log(a + "/sth")
        if not self.signed(top):
            return self.fail("%s: the newest head is not signed" % a)
        heads, after = [], 0
        while True:
            page = self.log("%s/sth/history?after=%d&limit=1000" % (a, after))
            for h in page["heads"]:
                if h["tree_size"] <= after or not self.signed(h):
                    return self.fail("%s: head %d" % (a, h["tree_size"]))
                heads.append(h)
                after = h["tree_size"]
            if len(page["heads"]) < 1000:
                break
        if not heads or heads[-1]["tree_size"] != top["tree_size"]:
            return self.fail("%s: the newest head ends no history" % a)
        stack, size, hi = [], 0, 0
        while size < top["tree_size"]:
            end = min(size + 1000, top["tree_size"])
            page = self.log("%s/entries?start=%d&end=%d" % (a, size, end))
            for e in page["entries"]:
                entry = e["entry"].encode()
                try:
                    f = parse_leaf(entry)
                except (ValueError, KeyError) as err:
                    return self.fail("%s leaf %d: %s" % (a, size, err))
                if e["leaf_index"] != size or f["authority_id"] != a:
                    return self.fail("%s leaf %d misplaced" % (a, size))
                push(stack, leaf_hash(entry))
                size += 1
                while hi < len(heads) and heads[hi]["tree_size"] == size:
                    if root_of(stack).hex() != heads[hi]["root_hash"]:
                        return self.fail("%s: the leaves do not give the "
                                         "signed root of size %d" % (a, size))
                    hi += 1
            if size != end:
                return self.fail("%s: leaves missing at %d" % (a, size))
        print("ok   %s: %d heads, %d leaves, every root recomputed"
              % (a, len(heads), size))

    def notice(self, path):
        with open(path) as fh:
            doc = json.load(fh)
        doc = doc.get("document", doc)
        t = doc["transparency"]
        entry, sth = t["entry"].encode(), t["sth"]
        try:
            f = parse_leaf(entry)
        except (ValueError, KeyError) as err:
            return self.fail("notice: its leaf is malformed: %s" % err)
        mine = hmac.new(bytes.fromhex(t["secret"]),
                        doc["applicant_iin"].encode(),
                        hashlib.sha256).hexdigest()
        if (mine != f["commitment"] or f["list"] != doc["queue"]["list"] or
                f["number"] != doc["queue"]["number"]):
            self.fail("notice: the leaf does not commit to this place")
        if not self.signed(sth):
            self.fail("notice: its signed head does not verify")
        a = doc["authority_id"]
        top = self.log(a + "/sth")
        if not self.signed(top):
            return self.fail("notice: the newest head is not signed")
        p = self.log("%s/proof/inclusion?leaf_index=%d&tree_size=%d"
                     % (a, t["leaf_index"], top["tree_size"]))
        if not verify_inclusion(t["leaf_index"], top["tree_size"],
                                leaf_hash(entry),
                                [bytes.fromhex(h) for h in p["audit_path"]],
                                bytes.fromhex(top["root_hash"])):
            self.fail("notice: the leaf is not in the log as signed now")
        served = self.log("%s/entries?start=%d&end=%d" % (
            a, t["leaf_index"], t["leaf_index"] + 1))["entries"]
        if not served or served[0]["entry"].encode() != entry:
            self.fail("notice: the log shows another leaf at %d"
                      % t["leaf_index"])
        if sth["tree_size"] != top["tree_size"]:
            c = self.log("%s/proof/consistency?first=%d&second=%d"
                         % (a, sth["tree_size"], top["tree_size"]))
            path = [bytes.fromhex(h) for h in c["consistency_path"]]
        else:
            path = []
        if not verify_consistency(sth["tree_size"], top["tree_size"],
                                  bytes.fromhex(sth["root_hash"]),
                                  bytes.fromhex(top["root_hash"]), path):
            self.fail("notice: the log now does not extend the notice's")
        if not self.failures:
            print("ok   notice: leaf %d of %s is in the log of size %d, "
                  "unchanged" % (t["leaf_index"], a, top["tree_size"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--keys-url")
    ap.add_argument("--authority", action="append", default=[])
    ap.add_argument("--notice")
    args = ap.parse_args()
    try:
        m = Monitor(args.url, args.keys_url)
        if args.notice:
            m.notice(args.notice)
        names = args.authority
        if not names and not args.notice:
            names = [l["authority_id"]
                     for l in m.get(m.url + "/v1/transparency")["logs"]]
        for a in names:
            m.authority(a)
    except (OSError, ValueError, KeyError) as err:
        print("cannot read the log:", err, file=sys.stderr)
        return 3
    print("NOT VERIFIED" if m.failures else "verified")
    return 1 if m.failures else 0


if __name__ == "__main__":
    sys.exit(main())
