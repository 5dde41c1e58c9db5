#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""seeds.py DIR: write the seed corpus of fuzz/chain_fuzz.c into DIR (the
committed copy is fuzz/corpus/). Each seed is a guest in the fuzzer's
input format: header (num_log2, flags, head, max_pairs, avail_idx), the
ring's descriptor table, then guest memory at 0x10000."""
import os
import struct
import sys

MEM = 0x10000
NEXT, WRITE, INDIRECT = 1, 2, 4


def desc(addr, length, flags=0, nxt=0):
    return struct.pack("<QIHH", addr, length, flags, nxt)


def pdesc(addr, length, flags=0, ident=0):
    """a packed-ring descriptor: addr, len, id, flags"""
    return struct.pack("<QIHH", addr, length, ident, flags)


def guest(num_log2, table, mem=b"", head=0, flags=1, max_pairs=3, avail=1):
    num = 1 << num_log2
    t = b"".join(table)
    t += b"\0" * (16 * num - len(t))
    return struct.pack("<BBHHH", num_log2, flags, head, max_pairs, avail) + t + mem


SEEDS = {
    # VQ_PAIRS_SET 2: header+data readable, ack writable
    "ctrl-pairs-set": guest(2, [desc(MEM, 4, NEXT, 1), desc(MEM + 4, 1, WRITE)],
                            bytes([4, 0, 2, 0, 0xff])),
    # header and data in separate buffers, as Linux's driver sends them
    "ctrl-split": guest(2, [desc(MEM, 2, NEXT, 1), desc(MEM + 2, 2, NEXT, 2),
                            desc(MEM + 4, 1, WRITE)], bytes([4, 0, 3, 0, 0])),
    "ctrl-no-ack": guest(1, [desc(MEM, 4)], bytes([4, 0, 1, 0])),
    "ctrl-unknown-class": guest(1, [desc(MEM, 2, NEXT, 1), desc(MEM + 2, 1, WRITE)],
                                bytes([1, 0, 0])),
    # a tx frame: virtio-net header and 60 bytes
    "tx-frame": guest(4, [desc(MEM, 12, NEXT, 1), desc(MEM + 12, 60)], bytes(72)),
    # an rx buffer through an indirect table of two entries
    "rx-indirect": guest(3, [desc(MEM, 32, INDIRECT)],
                         desc(MEM + 64, 12, WRITE | NEXT, 1) +
                         desc(MEM + 76, 1514, WRITE) + bytes(64 + 1526)),
    "loop": guest(2, [desc(MEM, 1, NEXT, 1), desc(MEM, 1, NEXT, 0)], bytes(16)),
    "nested-indirect": guest(1, [desc(MEM, 16, INDIRECT)],
                             desc(MEM + 16, 16, INDIRECT) + bytes(32)),
    "indirect-bad-len": guest(1, [desc(MEM, 15, INDIRECT)], bytes(32)),
    "out-after-in": guest(2, [desc(MEM, 4, WRITE | NEXT, 1), desc(MEM, 4)], bytes(8)),
    "bad-next": guest(2, [desc(MEM, 4, NEXT, 7)], bytes(8)),
    "outside-memory": guest(1, [desc(0xfffffffffffff000, 0xffffffff)]),
    "straddle-end": guest(1, [desc(MEM + 4, 8)], bytes(8)),
    "bad-head": guest(2, [desc(MEM, 4)], bytes(8), head=5),
    "avail-jump": guest(3, [desc(MEM, 4)], bytes(8), head=0, avail=0x8000),
    # packed rings (header flags bit 1): a two-slot tx chain wrapping from
    # the last slot to the first, id from its last descriptor
    "packed-wrap": guest(2, [pdesc(MEM + 12, 60, 0, 3), pdesc(0, 0), pdesc(0, 0),
                             pdesc(MEM, 12, NEXT, 0)], bytes(72), head=3, flags=3),
    "packed-indirect": guest(3, [pdesc(MEM, 32, INDIRECT, 5)],
                             pdesc(MEM + 64, 12, WRITE) + pdesc(MEM + 76, 1514, WRITE) +
                             bytes(64 + 1526), flags=3),
    "packed-indirect-next": guest(2, [pdesc(MEM, 16, INDIRECT | NEXT, 0),
                                      pdesc(MEM, 4, 0, 0)], bytes(32), flags=3),
    "packed-bad-id": guest(2, [pdesc(MEM, 4, 0, 9)], bytes(8), flags=3),
    "packed-endless": guest(1, [pdesc(MEM, 1, NEXT, 0), pdesc(MEM, 1, NEXT, 1)],
                            bytes(8), flags=3, avail=0x8001),
}

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
os.makedirs(out, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
print("seeds: %d written to %s" % (len(SEEDS), out))
