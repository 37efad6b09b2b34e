#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets, tests/fuzz/corpus/<target>/seed-*.

Usage: tests/fuzz/make_corpus.py TAILOR_BINARY
(the model seeds are written by `tailor train` on a tiny data set). Crash reproducers found by
fuzzing live beside the seeds as crash-<what> and are never rewritten here. Every input of the
csv and jsonl targets starts with one selector byte (see fuzz_csv.c, fuzz_jsonl.c and
tl_fuzz_ingest in fuzz_support.c): kind = bits 0-1 (items, users, events, searches),
skip_bad = bit 2, a 16-byte field limit = bit 3, ',' lists = bit 4; for csv, bits 6-7 choose
the path: 0 import TSV, 1 import CSV, 2 matrix TSV, 3 the record reader alone (there bit 0 is
',', bit 1 quoting, bit 2 an 8-byte field limit, bit 3 raw, bit 4 lf_only).
"""
import gzip
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")

ITEMS, USERS, EVENTS, SEARCHES = 0, 1, 2, 3
SKIP = 4
TSV, CSV, MATRIX, RECORDS = 0x00, 0x40, 0x80, 0xC0

EVENTS_TSV = b"user\titem\tvalue\ttimestamp\nu1\tb1\t5\t1000\nu1\tb2\t3\t1001\nu2\tb1\t4\t1002\n"
ITEMS_TSV = (
    b"item\ttitle\tcreators\tyear\tsubjects\n"
    b"b1\tDune\tFrank Herbert\t1965\tscience fiction|classics\n"
    b"b2\tEmma\tJane Austen\t1815\tromance\n"
)
USERS_TSV = (
    b"patron\tdepartment\tlevel\tconsent\tregistered\n"
    b"u1\tPhysics\tundergrad\tyes\t2023-09-01\nu2\tHistory\tstaff\tno\t\n"
)
SEARCHES_TSV = b"user\tquery\ttimestamp\tclicked\nu1\tdune herbert\t1000\tb1|b2\nu2\tausten\t1001\t\n"
ITEMS_CSV = (
    b"book_id,title,authors,original_publication_year,language_code\n"
    b'1,"The Hunger Games (The Hunger Games, #1)","Suzanne Collins",2008.0,eng\n'
    b'2,"Say ""hello""","J.K. Rowling, Mary Grandpr\xc3\xa9",1997.0,en-US\n'
)
EVENTS_CSV = b'user,item,type,value,timestamp\nu1,b1,loan,1,2024-03-01T10:00:00Z\n"u,2","b\n3",view,,1001\n'
EVENTS_JSONL = (
    b'{"user": "u1", "item": "b1", "type": "loan", "timestamp": "2024-03-01T10:00:00Z", '
    b'"context": {"device": "mobile"}}\n'
    b'{"user": "u2", "item": "b4", "type": "View", "value": 30}\n'
    b'{"user": 7, "item": "b1", "timestamp": 1700000000}\n'
)
ITEMS_JSONL = (
    b'{"id": "b1", "title": "Dune", "creators": ["Frank Herbert"], "year": 1965, '
    b'"subjects": ["sf"]}\n{"id": "b2", "title": "Emma \\u00e9", "available": false}\n'
)
USERS_JSONL = b'{"id": "u1", "segment": "staff", "created": "2023-09-01"}\n{"id": "u2"}\n'
SEARCHES_JSONL = b'{"user": "u1", "query": "dune", "timestamp": 1000, "clicked": ["b1", "b2"]}\n'
INTERACTIONS = (
    b"user\titem\tvalue\ttimestamp\n"
    + b"".join(
        b"u%d\tb%d\t%d\t%d\n" % (u, (u * 7 + k) % 12, 1 + (u + k) % 5, 1700000000 + u * 100 + k)
        for u in range(10)
        for k in range(4)
    )
)
CATALOGUE = b"item\ttitle\tcreators\tyear\tsubjects\n" + b"".join(
    b"b%d\tBook %d\tAuthor %d\t%d\tsubject%d|all\n" % (i, i, i % 3, 1990 + i, i % 4) for i in range(12)
)


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def csv_seeds():
    w = lambda name, sel, data: write("csv", name, bytes([sel]) + data)
    w("events-tsv", TSV | EVENTS, EVENTS_TSV)
    w("items-tsv", TSV | ITEMS, ITEMS_TSV)
    w("users-tsv", TSV | USERS, USERS_TSV)
    w("searches-tsv", TSV | SEARCHES | 0x10, SEARCHES_TSV)
    w("events-tsv-crlf", TSV | EVENTS, EVENTS_TSV.replace(b"\n", b"\r\n"))
    w("events-tsv-cr", TSV | EVENTS, EVENTS_TSV.replace(b"\n", b"\r"))
    w("events-tsv-bom", TSV | EVENTS, b"\xef\xbb\xbf" + EVENTS_TSV)
    w("events-tsv-bad-skip", TSV | EVENTS | SKIP, EVENTS_TSV + b"u3\t\t1\t1\nbad\tb1\t1\t1\n\xff\tb1\t1\t1\nu4\tb1\tx\tnow\n")
    w("events-tsv-bad", TSV | EVENTS, EVENTS_TSV + b"u3\tb1\t1e400\t1\n")
    w("events-tsv-gz", TSV | EVENTS, gzip.compress(EVENTS_TSV, mtime=0))
    w("items-tsv-limit", TSV | ITEMS | SKIP | 8, ITEMS_TSV + b"b3\t" + b"x" * 40 + b"\t\t\t\n")
    w("items-csv", CSV | ITEMS, ITEMS_CSV)
    w("events-csv", CSV | EVENTS, EVENTS_CSV)
    w("events-csv-crlf-bom", CSV | EVENTS | SKIP, b"\xef\xbb\xbf" + EVENTS_CSV.replace(b"\n", b"\r\n"))
    w("items-csv-open-quote", CSV | ITEMS | SKIP, ITEMS_CSV + b'3,"never closed,x,1,en\n4,ok,a,1,en\n')
    w("items-csv-long-field", CSV | ITEMS | SKIP, ITEMS_CSV + b'5,"' + b"long " * 3000 + b'",a,1,en\n')
    w("matrix", MATRIX, INTERACTIONS)
    w("matrix-value", MATRIX | 1, INTERACTIONS.replace(b"\n", b"\r\n"))
    w("matrix-catalogue", MATRIX | 2, CATALOGUE)
    w("matrix-bad", MATRIX, b"user\titem\tvalue\nu1\tb1\tnan\nu2\n")
    w("records-tsv", RECORDS, EVENTS_TSV)
    w("records-csv-quoted", RECORDS | 3, ITEMS_CSV + b'"a""b","c\r\nd",e\r\n"x"y,z\n')
    w("records-csv-raw-lf", RECORDS | 3 | 8 | 16, b'a,b\r\r\nc\rd,"e\rf"\n\xff\x00,g\n')
    w("records-limit", RECORDS | 4 | 1 | 2, b'short,"much longer than eight"\nok,ok\n')
    w("records-many-fields", RECORDS | 1, b"," * 5000 + b"\nx\n")


def jsonl_seeds():
    w = lambda name, sel, data: write("jsonl", name, bytes([sel]) + data)
    w("events", EVENTS, EVENTS_JSONL)
    w("items", ITEMS, ITEMS_JSONL)
    w("users", USERS, USERS_JSONL)
    w("searches", SEARCHES, SEARCHES_JSONL)
    w("events-crlf", EVENTS, EVENTS_JSONL.replace(b"\n", b"\r\n"))
    w("events-bom", EVENTS, b"\xef\xbb\xbf" + EVENTS_JSONL)
    w("events-bad-skip", EVENTS | SKIP, EVENTS_JSONL + b'{"user": "u1"\n[1,2]\n{"user": "", "item": "b"}\n{"user": "bad", "item": "b1"}\n{"user": "u\\u0000", "item": "b1"}\n')
    w("events-bad", EVENTS, EVENTS_JSONL + b'{"user": "u1", "item": "b1", "value": "x"}\n')
    w("events-gz", EVENTS, gzip.compress(EVENTS_JSONL, mtime=0))
    w("items-limit", ITEMS | SKIP | 8 | 16, ITEMS_JSONL + b'{"id": "b3", "title": "' + b"t" * 100 + b'"}\n')
    w("deep", EVENTS | SKIP, b'{"user": "u1", "item": "b1", "context": ' + b"[" * 200 + b"]" * 200 + b"}\n")


def gzip_seeds():
    lines = b"first\nsecond\r\nthird\rfourth\n\nlast without end"
    one = gzip.compress(lines, mtime=0)
    two = gzip.compress(b"member one\n", mtime=0) + gzip.compress(b"member two\n", mtime=0)
    write("gzip", "plain", lines)
    write("gzip", "empty", b"")
    write("gzip", "one-member", one)
    write("gzip", "two-members", two)
    write("gzip", "padding", one + b"\0" * 16)
    write("gzip", "truncated", one[: len(one) // 2])
    write("gzip", "truncated-trailer", one[:-3])
    write("gzip", "bad-crc", one[:-8] + bytes([one[-8] ^ 1]) + one[-7:])
    write("gzip", "junk-after", one + b"junk\n")
    write("gzip", "padding-then-member", one + b"\0\0" + one)
    write("gzip", "empty-member", gzip.compress(b"", mtime=0) + one)
    write("gzip", "long-line", gzip.compress(b"x" * ((1 << 20) + 10) + b"\nshort\n", mtime=0, compresslevel=9))
    write("gzip", "magic-only", b"\x1f\x8b")
    write("gzip", "cr-at-chunk", gzip.compress(b"a" * ((1 << 18) - 1) + b"\r\nb\n", mtime=0, compresslevel=9))


def model_seeds(tailor):
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "interactions.tsv")
        items = os.path.join(tmp, "items.tsv")
        with open(data, "wb") as f:
            f.write(INTERACTIONS)
        with open(items, "wb") as f:
            f.write(CATALOGUE)
        models = [
            ("popular", []),
            ("itemknn", []),
            ("ials", ["--set", "factors=4", "--set", "iterations=2"]),
            ("ease", []),
            ("rp3beta", []),
            ("content", []),
            ("sequence", []),
            ("hybrid", ["--set", "models=popular,itemknn,ials", "--set", "weights=1,1,1", "--set", "set=ials.factors=4;ials.iterations=2"]),
            ("popular-decay", ["--set", "half_life_days=30"]),
        ]
        for name, extra in models:
            model = name.split("-")[0]
            out = os.path.join(tmp, name + ".tlm")
            cmd = [tailor, "train", "--model", model, "--out", out, "--data", data,
                   "--items", items, "--set", "autotune=0", "--quiet"] + extra
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            with open(out, "rb") as f:
                blob = f.read()
            write("model", name, blob)
        # damaged variants of one file (the target also loads them with a repaired checksum)
        with open(os.path.join(tmp, "itemknn.tlm"), "rb") as f:
            blob = f.read()
        write("model", "truncated", blob[: len(blob) // 2])
        write("model", "header-only", blob[:64])
        write("model", "bad-magic", b"X" + blob[1:])
        write("model", "bad-version", blob[:8] + b"\x09" + blob[9:])
        flipped = bytearray(blob)
        flipped[len(blob) // 2] ^= 0x40
        write("model", "flipped-byte", bytes(flipped))
        # the bugs fuzzing found, as regressions: a section count that matched its byte size
        # only modulo 2^64, and a sequence.dims shorter than the 3 values the loader reads
        write("model", "count-wraps", patch_entry(blob, 0, count_add=1 << 62))
        with open(os.path.join(tmp, "sequence.tlm"), "rb") as f:
            blob = f.read()
        write("model", "sequence-dims-short", patch_entry(blob, "sequence.dims", count=2, nbytes=16))


def patch_entry(blob, which, count=None, count_add=0, nbytes=None):
    """blob with one section-table entry changed (by index or name); the size and checksum
    are left stale: the model target repairs them itself."""
    nsections = struct.unpack_from("<I", blob, 12)[0]
    for i in range(nsections):
        at = 64 + 64 * i
        name = blob[at : at + 32].split(b"\0")[0].decode()
        if which in (i, name):
            break
    else:
        raise KeyError(which)
    out = bytearray(blob)
    old_count, old_bytes = struct.unpack_from("<QQ", blob, at + 48)
    new_count = (old_count if count is None else count) + count_add
    struct.pack_into("<QQ", out, at + 48, new_count % (1 << 64), old_bytes if nbytes is None else nbytes)
    return bytes(out)


def layout_seeds():
    """Mapping files and exports for fuzz_layout: "LAYOUT\n---\nEXPORT", or an export alone for
    the built-in layout the first byte chooses (bit 0: koha-statistics / koha-issues; bit 1:
    skip bad rows)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ils = os.path.join(root, "tests", "data", "ils")
    layouts = os.path.join(root, "etc", "ils")
    read = lambda d, n: open(os.path.join(d, n), "rb").read()
    w = lambda name, sel, data: write("layout", name, bytes([sel]) + data)
    w("koha-statistics", 0, read(ils, "koha_statistics.csv"))
    w("koha-issues", 1, read(ils, "koha_old_issues.csv"))
    w("koha-issues-skip", 3, read(ils, "koha_issues_biblio.csv").replace(b"998", b"x98"))
    for lay, data in (("evergreen", "evergreen_circulation.csv"), ("alma", "alma_loans.csv"),
                      ("folio", "folio_loans.csv")):
        w(lay, 2, read(layouts, lay + ".layout") + b"\n---\n" + read(ils, data))
    w("bad-layout", 0, b"user = u\ncopy = c\ndate_format = %Q\n---\nu,c\n1,2\n")
    w("dmy", 2, b"user = u\ncopy = c\ntime = t\ndelimiter = tab\ndate_format = %d/%m/%Y %H:%M\n"
      b"map.out = loan\nmap.in = ignore\ntype = what\n---\nu\tc\tt\twhat\n"
      b"1\t2\t31/12/2024 23:59\tout\n1\tx3\t01/01/2025\tout\n2\t4\t1/1/2025\tin\n")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    csv_seeds()
    jsonl_seeds()
    gzip_seeds()
    model_seeds(sys.argv[1])
    layout_seeds()


if __name__ == "__main__":
    main()
