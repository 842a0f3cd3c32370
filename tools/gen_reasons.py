#!/usr/bin/env python3
"""Packs the templates of RMQ_REASONS into the block of rocketmq_producer.h
that the renderer reads (RMQ__REASON_PAIRS, RMQ__REASON_PACKED).

    tools/gen_reasons.py            rewrite the block from RMQ_REASONS
    tools/gen_reasons.py --check    exit 1 if the block is stale (make lint)
    tools/gen_reasons.py --retrain  choose the pairs again (see below)

RMQ_REASONS stays the one source: each line's sentence, readable. The packed
block is derived from it. The packing is byte-pair encoding: a byte
0x80..0xFF or 0x01..0x1F of a packed template (a token; no template holds
one) stands for two symbols, each a character or another token, so the
renderer expands it with a small stack, nested at most PAIR_DEPTH deep.
A '%' and the character after it are never paired: a conversion stays two
plain bytes, and the recorder finds the arguments of a packed template as
it did those of a plain one.

The pairs are chosen once (--retrain, or when the header has none), the
most frequent first, counting the templates the core keeps (third column
CORE) fully and the others a third: the core's flash is the tight budget.
Later runs keep the pairs and only re-encode, so appending a code to
RMQ_REASONS appends one line to the block; --retrain when many sentences
have changed (it rewrites every line).
"""
import os
import re
import sys

HEADER = 'rocketmq_producer.h'
BEGIN = '/* -- packed by tools/gen_reasons.py from RMQ_REASONS: do not edit -- */'
END = '/* -- end of the packed reasons -- */'
TOKENS = list(range(0x80, 0x100)) + list(range(0x01, 0x20))
PAIR_DEPTH = 8
OTHER_WEIGHT = 1 / 3


def reasons(header):
    start = header.index('#define RMQ_REASONS(X)')
    body = header[start:header.index('/* end of RMQ_REASONS */', start)]
    rows = []
    for m in re.finditer(r'X\(\s*(\d+), (RMQ_R_\w+), (\w+), ((?:"(?:[^"\\]|\\.)*"\s*(?:\\\s*)?)+)\)', body):
        text = ''.join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(4)))
        text = text.encode('latin-1').decode('unicode_escape').encode('latin-1')
        rows.append((int(m.group(1)), m.group(2), m.group(3), text))
    for i, row in enumerate(rows):
        if row[0] != i:
            sys.exit('gen_reasons: line %d of RMQ_REASONS has number %d' % (i, row[0]))
        if any(b in TOKENS for b in row[3]):
            sys.exit('gen_reasons: code %d holds a byte the packing uses' % i)
    return rows


def symbols(text):
    """A template as symbols: a byte, or a conversion ('%', c) that no pair takes."""
    out, i = [], 0
    while i < len(text):
        if text[i] == ord('%') and i + 1 < len(text):
            out.append((text[i], text[i + 1]))
            i += 2
        else:
            out.append(text[i])
            i += 1
    return out


def replace(seq, pair, tok):
    i = 0
    while i < len(seq) - 1:
        if seq[i] == pair[0] and seq[i + 1] == pair[1]:
            seq[i:i + 2] = [tok]
        i += 1


def train(rows):
    seqs = [symbols(r[3]) for r in rows]
    weights = [1.0 if r[2] == 'CORE' else OTHER_WEIGHT for r in rows]
    pairs, depth = [], {}
    for tok in TOKENS:
        count = {}
        for seq, w in zip(seqs, weights):
            for a, b in zip(seq, seq[1:]):
                if isinstance(a, tuple) or isinstance(b, tuple):
                    continue
                if max(depth.get(a, 0), depth.get(b, 0)) + 1 > PAIR_DEPTH:
                    continue
                count[(a, b)] = count.get((a, b), 0) + w
        if not count:
            break
        pair, n = max(count.items(), key=lambda kv: (kv[1], -kv[0][0], -kv[0][1]))
        if n < 2:
            break
        pairs.append(pair)
        depth[tok] = max(depth.get(pair[0], 0), depth.get(pair[1], 0)) + 1
        for seq in seqs:
            replace(seq, pair, tok)
    return pairs


def encode(text, pairs):
    seq = symbols(text)
    for tok, pair in zip(TOKENS, pairs):
        replace(seq, pair, tok)
    out = bytearray()
    for s in seq:
        out += bytes(s) if isinstance(s, tuple) else bytes([s])
    return bytes(out)


def decode(packed, pairs):
    out, stack = bytearray(), list(reversed(packed))
    while stack:
        c = stack.pop()
        if c in TOKENS:
            a, b = pairs[TOKENS.index(c)]
            stack += [b, a]
        else:
            out.append(c)
    return bytes(out)


def c_string(data, width=96):
    """C literals of data, cut to lines of about width: octal escapes of
    three digits, so no following character joins an escape."""
    pieces, cur = [], ''
    for c in data:
        ch = chr(c) if 0x20 <= c < 0x7f and chr(c) not in '"\\?' else '\\%03o' % c
        if len(cur) + len(ch) > width:
            pieces.append('"%s"' % cur)
            cur = ''
        cur += ch
    pieces.append('"%s"' % cur)
    return pieces


def block(rows, pairs):
    lines = [BEGIN,
             '/* Token t (bytes 0x80..0xFF, then 0x01..0x1F) stands for symbols 2t and',
             ' * 2t + 1 of RMQ__REASON_PAIRS; RMQ__REASON_PACKED holds each line of',
             ' * RMQ_REASONS with its template so packed. */',
             '#define RMQ__REASON_PAIR_DEPTH %d' % PAIR_DEPTH,
             '#define RMQ__REASON_PAIRS \\']
    flat = bytes(b for p in pairs for b in p)
    lines += ['    %s \\' % s for s in c_string(flat)]
    lines[-1] = lines[-1][:-2]
    lines.append('#define RMQ__REASON_PACKED(X) \\')
    for n, _, cut, text in rows:
        packed = encode(text, pairs)
        assert decode(packed, pairs) == text
        pieces = c_string(packed)
        lines.append('    X(%3d, %s, %s) \\' % (n, cut, ' \\\n        '.join(pieces)))
    lines.append('    /* end of RMQ__REASON_PACKED */')
    lines.append(END)
    return '\n'.join(lines) + '\n'


def pairs_in(header):
    """The pairs of the block in the header, or None."""
    if BEGIN not in header:
        return None
    part = header[header.index(BEGIN):header.index(END)]
    m = re.search(r'#define RMQ__REASON_PAIRS \\\n((?:\s*"(?:[^"\\]|\\.)*"\s*\\?\n)+)', part)
    if not m:
        return None
    raw = ''.join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1)))
    data = raw.encode('latin-1').decode('unicode_escape').encode('latin-1')
    return [(data[i], data[i + 1]) for i in range(0, len(data), 2)]


def main(argv):
    mode = argv[1] if len(argv) > 1 else ''
    if mode not in ('', '--check', '--retrain'):
        sys.stderr.write(__doc__)
        return 2
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
    with open(HEADER, encoding='latin-1') as f:
        header = f.read()
    rows = reasons(header)
    pairs = None if mode == '--retrain' else pairs_in(header)
    if pairs is None:
        pairs = train(rows)
    new = block(rows, pairs)
    if BEGIN in header:
        old = header[header.index(BEGIN):header.index(END) + len(END) + 1]
    else:
        old = None
    if mode == '--check':
        if old != new:
            print('gen_reasons: the packed reasons in %s are stale: run tools/gen_reasons.py' % HEADER)
            return 1
        print('gen_reasons: the packed reasons match RMQ_REASONS (%d codes, %d pairs)' % (len(rows), len(pairs)))
        return 0
    if old is None:
        sys.exit('gen_reasons: %s has no place for the block (a line "%s" ... "%s")' % (HEADER, BEGIN, END))
    with open(HEADER, 'w', encoding='latin-1') as f:
        f.write(header.replace(old, new))
    size = sum(len(encode(r[3], pairs)) + 1 for r in rows)
    core = sum(len(encode(r[3], pairs)) + 1 for r in rows if r[2] == 'CORE')
    print('gen_reasons: %d codes packed into %d bytes (%d the core keeps) and %d pairs (%d bytes)'
          % (len(rows), size, core, len(pairs), 2 * len(pairs)))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
