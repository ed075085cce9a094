#!/usr/bin/env python3
"""Extract Kezek reference data from the state service standard (the seed).

Usage: python3 reference/extract.py SEED.txt OUT_DIR

From the repository root, with the seed kept in the repository:

    python3 reference/extract.py reference/seed/000_c11d2e3a86b7c3f8.txt reference/

Reads appendices 1 (authorized bodies), 2 (public service centres) and
5 (higher instances of appeal) of the seed and writes JSON-lines files to
OUT_DIR: regions, authorities, settlements, centres, appeal_instances, plus
manifest.json (seed file name and hash, line counts and hashes of the
generated files; the seed's directory is not recorded).

The seed is a PDF-to-text dump: table rows are tab-separated, and a table
cell that wrapped across a page break shows up as a second line whose
columns must be glued column by column to the row they belong to. Texts are
kept as found (only runs of whitespace are collapsed to one space); nothing
is translated or spelling-corrected. Standard library only; the output is
deterministic (same seed -> byte-identical files).
"""
import hashlib
import json
import os
import re
import sys

# Extra fields (beyond the contract's list) are documented in README.md.
WARNINGS = []


def warn(msg):
    WARNINGS.append(msg)


def squash(s):
    """Collapse whitespace runs to one space and trim."""
    return re.sub(r"\s+", " ", s).strip()


def glue(a, b):
    """Join two fragments of one table cell that wrapped onto two lines."""
    a, b = squash(a), squash(b)
    if not a or not b:
        return a or b
    if a.endswith("-"):  # "09:00-" + "18:30"
        return a + b
    return a + " " + b


def glue_cells(first, second):
    """Join two partial rows column by column."""
    n = max(len(first), len(second))
    first = first + [""] * (n - len(first))
    second = second + [""] * (n - len(second))
    return [glue(a, b) for a, b in zip(first, second)]


def cells_of(line):
    return [squash(c) for c in line.split("\t")]


def or_null(s):
    s = squash(s or "")
    return None if s in ("", "-", "--") else s


def key(s):
    """Normalised comparison key: no spaces, hyphens or quotes; lower case."""
    return re.sub(r"[\s\-«»\"]", "", s).lower()


# --------------------------------------------------------------------------
# Splitting the seed into appendices


def appendices(lines):
    """Map appendix number -> its lines (between 'N-қосымша' markers)."""
    marks = [(i, int(m.group(1))) for i, l in enumerate(lines)
             for m in [re.fullmatch(r"\s*(\d+)-қосымша\s*", l)] if m]
    out = {}
    for k, (start, num) in enumerate(marks):
        end = marks[k + 1][0] if k + 1 < len(marks) else len(lines)
        out[num] = lines[start + 1:end]
    return out


def is_caption(line):
    """The running caption '«Мемлекеттік тұрғын үй қорынан ...» стандартына'."""
    return line.startswith("«Мемлекеттік тұрғын үй қорынан")


def is_column_numbers(cells):
    """The '1 2 3 4 5' row under a table header."""
    vals = [c for c in cells if c]
    return len(vals) >= 3 and vals == [str(i) for i in range(1, len(vals) + 1)]


# --------------------------------------------------------------------------
# Regions


def region_short_name(heading):
    """'Ақмола облысының аудандық, ...' -> 'Ақмола облысы'."""
    m = re.match(r"(.*?(?:облысы|қаласы))(?:ның)?\b", heading)
    if not m:
        raise SystemExit("cannot read region name from heading: " + heading)
    return m.group(1).strip()


def region_address_prefixes(short):
    """Ways an address may start for a region, as normalised keys."""
    out = {key(short)}
    words = short.replace("-", " ").split()
    if words[-1] == "қаласы":  # 'Алматы қ., ...'
        out.add(key(" ".join(words[:-1]) + " қ."))
    if len(words) >= 3:  # 'Шығыс Қазақстан облысы' -> 'ШҚО'
        out.add(key("".join(w[0] for w in words).upper()))
    return out


def region_by_address(address, regions):
    a = key(address or "")
    hits = [r for r in regions if any(a.startswith(p) for p in r["_prefixes"])]
    return hits[0] if len(hits) == 1 else None


def region_by_name(name, regions):
    hits = [r for r in regions if key(r["short_name"]) == key(name)]
    return hits[0] if len(hits) == 1 else None


# --------------------------------------------------------------------------
# Appendix 1: authorized bodies

EMAIL_TOKEN = re.compile(r"[A-Za-z0-9._@\-]*[A-Za-z@][A-Za-z0-9._@\-]*")


def split_email(address):
    """'... к-сі, 94 gkh_akkol@mail.ru' -> ('... к-сі, 94', 'gkh_akkol@mail.ru').

    The e-mail was printed in the address cell. It is the trailing run of
    ASCII tokens containing a letter (so a house number like '94' stays in
    the address). Spaces the PDF put inside an e-mail are removed.
    """
    if "@" not in address:
        return address, None
    tokens = address.split(" ")
    i = len(tokens)
    while i > 0 and EMAIL_TOKEN.fullmatch(tokens[i - 1]):
        i -= 1
    email = "".join(tokens[i:])
    if "@" not in email:
        warn("no e-mail found in address with '@': " + address)
        return address, None
    rest = " ".join(tokens[:i]).rstrip(" ,")
    return rest, email


def parse_appendix1(lines):
    regions, rows = [], []
    region = None
    pending = None  # a name fragment printed on the line before its row
    for line in lines:
        if not line.strip() or is_caption(line):
            continue
        cells = cells_of(line)
        first = cells[0]
        if is_column_numbers(cells) or first == "№":
            continue
        if re.fullmatch(r"\d+", first):
            row = {"no": int(first), "cells": cells, "region": region}
            if pending is not None:
                row["cells"] = glue_cells(pending, cells)
                pending = None
            rows.append(row)
            continue
        if first == "" and len(cells) > 1:
            # A wrapped cell. If it starts a new name ('«...') it belongs to
            # the next numbered row, otherwise it continues the previous one.
            if cells[1].startswith("«"):
                pending = cells
            else:
                rows[-1]["cells"] = glue_cells(rows[-1]["cells"], cells)
            continue
        if first.startswith("демалыс"):  # the merged 'hours' cell
            region["_hours"].append(first)
            continue
        if "бөлімдері" in first:
            region = {"heading": first, "short_name": region_short_name(first),
                      "_hours": []}
            regions.append(region)
            continue
        if first != "Мемлекеттік қызмет көрсететін уәкілетті органдардың тізбесі":
            warn("appendix 1: ignored line: " + first)
    if pending is not None:
        warn("appendix 1: dangling name fragment: " + " | ".join(pending))
    # The hours column is one merged cell per region; it may sit in any row
    # of the region (column 5, sometimes 6) and may itself wrap.
    for row in rows:
        for c in row["cells"][4:]:
            if c:
                row["region"]["_hours"].append(c)
    return regions, rows


def settlement_of(name, address):
    """The district or city an authority serves, from its name.

    '«Ақмола облысы Ақкөл ауданының ТКШ ...' -> ('Ақкөл ауданы', 'district')
    'Махамбет аудандық ТКШ ...'             -> ('Махамбет ауданы', 'district')
    '«Ақтау қалалық ТКШ ...'                 -> ('Ақтау қаласы', 'city')
    """
    n = name.lstrip("«\" ")
    n = re.sub(r"^\S+ облысы ", "", n)  # 'Ақмола облысы Ақкөл ауданының'
    m = re.match(r"(.+?) (ауданының|аудандық|ауданы|қаласының|қалалық|қаласы)\b", n)
    if m:
        kind = "district" if m.group(2).startswith("аудан") else "city"
        return m.group(1) + (" ауданы" if kind == "district" else " қаласы"), kind
    # '«Лисаковск әкімдігінің ТКШ ...': the address says it is a city.
    m = re.match(r"(\S+) әкімдігінің", n)
    if m and re.search(re.escape(m.group(1)) + r" [қк]\.", address):
        return m.group(1) + " қаласы", "city"
    raise SystemExit("cannot derive the settlement of: " + name)


def build_authorities(regions, rows):
    authorities, settlements = [], []
    ordinal = {}
    for row in rows:
        r = row["region"]
        ordinal[r["id"]] = ordinal.get(r["id"], 0) + 1
        n = ordinal[r["id"]]
        if n != row["no"]:
            warn("appendix 1: %s row numbered %d is entry %d" % (r["id"], row["no"], n))
        cells = row["cells"] + [""] * 4
        name, address_cell, phone = cells[1], cells[2], cells[3]
        address, email = split_email(address_cell)
        suffix = "%s-%02d" % (r["code"], n)
        aid = "a-" + suffix
        authorities.append({
            "id": aid,
            "region_id": r["id"],
            "region": r["heading"],
            "name": name,
            "address": or_null(address),
            "email": email,
            "phone": or_null(phone),
            "hours": r["hours"],
        })
        sname, kind = settlement_of(name, address)
        settlements.append({
            "id": "s-" + suffix,
            "name": sname,
            "kind": kind,
            "authority_id": aid,
            "region_id": r["id"],
        })
    return authorities, settlements


# --------------------------------------------------------------------------
# Appendix 2: public service centres


def parse_appendix2(lines, regions):
    centres = []
    region = None
    for line in lines:
        if not line.strip() or is_caption(line):
            continue
        cells = cells_of(line) + [""] * 4
        first = cells[0]
        if is_column_numbers(cells) or first.startswith("Р / с"):
            continue
        m = re.fullmatch(r"(\d+(?:\.\d+)*)\.?", first)
        if m:
            if region is None:
                raise SystemExit("appendix 2: row before any branch heading: " + line)
            num = m.group(1)
            cid = "c-%s-%s" % (region["code"], num.replace(".", "-"))
            parts = num.split(".")
            parent = None
            if len(parts) > 1:
                parent = "c-%s-%s" % (region["code"], "-".join(parts[:-1]))
            centres.append({
                "id": cid,
                "parent_id": parent,
                "region_id": region["id"],
                "number": num,
                "name": cells[1],
                "address": or_null(cells[2]),
                "phones": or_null(cells[3]),
            })
            continue
        if "ХҚО" in first and "филиал" in first:
            short = re.match(r"«?(.*?) бойынша", first)
            region = region_by_name(short.group(1), regions) if short else None
            if region is None:
                raise SystemExit("appendix 2: no appendix-1 region for: " + first)
            continue
        if first != "Халыққа қызмет көрсету орталықтарын тізбесі":
            warn("appendix 2: ignored line: " + first)
    ids = {c["id"] for c in centres}
    for c in centres:
        if c["parent_id"] and c["parent_id"] not in ids:
            warn("appendix 2: %s has no parent %s" % (c["id"], c["parent_id"]))
    return centres


# --------------------------------------------------------------------------
# Appendix 5: higher instances of appeal (akimat offices)


def parse_appendix5(lines, regions):
    rows = []
    for line in lines:
        if not line.strip() or is_caption(line) or set(line.strip()) <= set("-\t "):
            continue
        cells = cells_of(line)
        first = cells[0]
        if is_column_numbers(cells) or first.startswith("Р/с"):
            continue
        if re.fullmatch(r"\d+", first):
            rows.append({"no": int(first), "cells": cells})
        elif first == "" and rows:
            rows[-1]["cells"] = glue_cells(rows[-1]["cells"], cells)
        elif not first.startswith(("Апелляцияның жоғары тұрған", "©")):
            warn("appendix 5: ignored line: " + first)
    out = []
    ordinal = {}
    prev_region = None
    for k, row in enumerate(rows, 1):
        if row["no"] != k:
            warn("appendix 5: row %d numbered %d" % (k, row["no"]))
        c = row["cells"] + [""] * 7
        # Columns: no, name, address, room, phone, e-mail, hours. A row with
        # an empty e-mail cell may have lost it, leaving the hours in column 6.
        if "сағ" in c[5] and not c[6]:
            warn("appendix 5: row %d: hours found in the e-mail column" % row["no"])
            c[5], c[6] = "", c[5]
        region = region_by_address(c[2], regions)
        if region is None:
            warn("appendix 5: row %d: region not in address, assumed %s"
                 % (row["no"], prev_region["id"]))
            region = prev_region
        prev_region = region
        ordinal[region["id"]] = ordinal.get(region["id"], 0) + 1
        out.append({
            "id": "ap-%s-%02d" % (region["code"], ordinal[region["id"]]),
            "region_id": region["id"],
            "number": row["no"],
            "name": c[1],
            "address": or_null(c[2]),
            "room": or_null(c[3]),
            "phone": or_null(c[4]),
            "email": or_null(c[5]),
            "hours": or_null(c[6]),
        })
    return out


# --------------------------------------------------------------------------
# Output and checks


def write_jsonl(path, records):
    data = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n"
                   for r in records)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(data)
    return data.encode("utf-8")


def check(files):
    for name, recs in files.items():
        ids = [r["id"] for r in recs]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise SystemExit("%s: duplicate ids %s" % (name, dup))
    region_ids = {r["id"] for r in files["regions"]}
    authority_ids = {a["id"] for a in files["authorities"]}
    for name, recs in files.items():
        for r in recs:
            if name != "regions" and r.get("region_id") not in region_ids:
                raise SystemExit("%s: %s has no region" % (name, r["id"]))
    for s in files["settlements"]:
        if s["authority_id"] not in authority_ids:
            raise SystemExit("settlement %s: unknown authority" % s["id"])
    centre_ids = {c["id"] for c in files["centres"]}
    for c in files["centres"]:
        if c["parent_id"] is not None and c["parent_id"] not in centre_ids:
            raise SystemExit("centre %s: unknown parent" % c["id"])


def main(argv):
    if len(argv) != 3:
        raise SystemExit("usage: extract.py SEED.txt OUT_DIR")
    seed_path, out_dir = argv[1], argv[2]
    with open(seed_path, "rb") as f:
        raw = f.read()
    lines = raw.decode("utf-8").replace("\r\n", "\n").split("\n")
    apps = appendices(lines)

    regions, rows = parse_appendix1(apps[1])
    if len(regions) != 16:
        warn("appendix 1: %d region headings, expected 16" % len(regions))
    for i, r in enumerate(regions, 1):
        r["code"] = "%02d" % i
        r["id"] = "r-" + r["code"]
        r["_prefixes"] = region_address_prefixes(r["short_name"])
        hours = ""
        for h in r["_hours"]:
            hours = glue(hours, h)
        if len(r["_hours"]) != 1:
            warn("appendix 1: %s: hours cell in %d pieces" % (r["id"], len(r["_hours"])))
        r["hours"] = hours or None

    authorities, settlements = build_authorities(regions, rows)
    centres = parse_appendix2(apps[2], regions)
    appeals = parse_appendix5(apps[5], regions)
    region_recs = [{"id": r["id"], "name": r["heading"], "short_name": r["short_name"]}
                   for r in regions]

    files = {
        "regions": region_recs,
        "authorities": authorities,
        "settlements": settlements,
        "centres": centres,
        "appeal_instances": appeals,
    }
    check(files)

    os.makedirs(out_dir, exist_ok=True)
    manifest = {
        "seed": os.path.basename(seed_path),
        "seed_sha256": hashlib.sha256(raw).hexdigest(),
        "files": {},
    }
    for name, recs in files.items():
        data = write_jsonl(os.path.join(out_dir, name + ".jsonl"), recs)
        manifest["files"][name + ".jsonl"] = {
            "records": len(recs), "sha256": hashlib.sha256(data).hexdigest()}
    with open(os.path.join(out_dir, "manifest.json"), "w",
              encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n")

    for name, recs in files.items():
        print("%-18s %4d" % (name, len(recs)), file=sys.stderr)
    for w in WARNINGS:
        print("note: " + w, file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv)
