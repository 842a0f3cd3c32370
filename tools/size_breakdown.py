#!/usr/bin/env python3
"""Where the library's code goes: bytes per section of rocketmq_producer.h.

    size_breakdown.py NM_S IMAGE.ci rocketmq_producer.h [LIBRARY_TEXT]

NM_S is `nm -S` of a linked image; IMAGE.ci the call graph GCC wrote for it
(-fcallgraph-info), which places every function at a line of the header;
the header's "/* N. Title" banners give the sections. A function inlined
into another counts where it was inlined. Code of libc and libgcc that the
image holds is one more line, and the library's named read-only tables
another. Given LIBRARY_TEXT (the library's share of size(1)'s text), what
no symbol accounts for is printed last: string literals (the texts of
errors and reasons, JSON keys), what min_core.c's main adds over the
baseline's, and padding.
"""
import re
import sys

from size_stack import HEADER, parse_ci

BANNER = re.compile(r'^/\* (\d+)\. (\S.*?)\s*\*/$')
LIBRARY_AUX = re.compile(r'^(__aeabi_|__udiv|__div|__mod|__umod|__ash|__lshr|mem|str)')


def main(argv):
    if len(argv) not in (4, 5):
        sys.stderr.write(__doc__)
        return 2
    nm_path, ci_path, header = argv[1:4]
    total = int(argv[4]) if len(argv) == 5 else None
    banners = []
    with open(header, encoding='utf-8', errors='replace') as f:
        for n, line in enumerate(f, 1):
            m = BANNER.match(line.strip())
            if m:
                banners.append((n, m.group(1) + '. ' + m.group(2)))
    where = {}
    nodes, _ = parse_ci(ci_path)
    for name, at, _, _ in nodes.values():
        m = re.match(r'(.*):(\d+):\d+$', at)
        if m and m.group(1).endswith(HEADER):
            # a clone (rmq__send.constprop) counts where its original is
            where[name.split('.')[0]] = int(m.group(2))

    def section(line):
        name = 'before the sections'
        for start, title in banners:
            if start <= line:
                name = title
        return name

    sizes, order = {}, []
    with open(nm_path, encoding='utf-8', errors='replace') as f:
        for line in f:
            parts = line.split()
            if len(parts) != 4:
                continue
            size, kind, name = int(parts[1], 16), parts[2], parts[3]
            base = name.split('.')[0]
            if kind in 'tTW' and base in where:
                key = section(where[base])
            elif kind in 'tTW' and LIBRARY_AUX.match(name):
                key = 'libc and libgcc (memcpy, division, ...)'
            elif kind in 'rR' and (base in where or name.startswith('rmq_')):
                key = 'read-only tables of the library'
            else:
                continue
            if key not in sizes:
                order.append(key)
                sizes[key] = 0
            sizes[key] += size
    for key in sorted(order, key=lambda k: (not k[0].isdigit(), int(k.split('.')[0]) if k[0].isdigit() else 0)):
        print('  %-46s %7d' % (key, sizes[key]))
    if total is not None:
        print('  %-46s %7d' % ('the rest: string literals, main, padding', total - sum(sizes.values())))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
