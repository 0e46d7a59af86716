#!/usr/bin/env python3
"""Pack a published NSS snapshot (STATE_DIR/nss.snap and the shards it names
in STATE_DIR/nss.d) as an input of fuzz_snapshot: one byte (the small
buffer's length), then each file as [length u16 LE][bytes], the manifest
first, then the shards in the manifest's order ('P' shards, then 'U').

    tests/fuzz/snapshot_seed.py STATE_DIR SMALL_LEN > seed
"""
import struct
import sys

state, small = sys.argv[1], int(sys.argv[2])
man = open(state + "/nss.snap", "rb").read()
nbits = struct.unpack_from("<I", man, 48)[0]
table = struct.unpack_from("<I", man, 56)[0]
n = 1 << nbits
files = [man]
for i in range(2 * n):
    serial, size = struct.unpack_from("<QI", man, table + 12 * i)
    kind = "P" if i < n else "U"
    files.append(open("%s/nss.d/%s%03x.%016x" % (state, kind, i % n, serial), "rb").read())
out = bytes([small])
for f in files:
    if len(f) > 65535:
        sys.exit("snapshot_seed.py: a file over 64 KiB: use a smaller store")
    out += struct.pack("<H", len(f)) + f
sys.stdout.buffer.write(out)
