#!/usr/bin/env python3
"""Stack depth of rocketmq_producer.h's calls, from GCC's -fcallgraph-info=su.

    size_stack.py [--nm NM_FILE] IMAGE.ci SOURCE... -- ROOT...

IMAGE.ci is the call graph GCC writes with -fcallgraph-info=su (VCG text):
one node per function with its frame ("N bytes (static)"), one edge per call
site. SOURCE are the C files the graph was compiled from (the header and the
application), read to see the call sites of indirect calls. ROOT are the
functions to measure (rmq_send ...). NM_FILE is `nm` of the linked image:
with it, only functions the image holds count (the graph has every function
compiled, including those --gc-sections dropped), and the roots.

Prints, for each root, two sums of frames along the deepest chain:

  direct    only the calls GCC could see (the static call graph);
  resolved  also every indirect call (a port entry, r->done(...), cond(...),
            a user callback), taken to reach every function whose address
            the sources take and whose parameter types are those of the
            pointer called (read from its declaration: a typedef, a struct
            member `ret (*name)(...)`); a pointer whose declaration is not
            found: every such function with as many parameters as the call
            has arguments; a call site that cannot be read: any of them.
            This over-approximates: a chain may pass through a callback
            that cannot in fact be reached from there.

A chain calls no function twice: the figure is the heaviest such chain
(exact, also through cycles), and every cycle is reported ("recursion" in
the direct graph), since going round one adds its frames again. Functions
without a frame in the graph (memcpy, libgcc helpers) count 0: they are
leaves of a few words.

Also prints the largest frame of a function of the header. Output lines are
"key value ..." so that tools/size.sh can read them.
"""
import re
import sys

NODE = re.compile(r'node:\s*\{\s*title:\s*"([^"]*)"\s*label:\s*"([^"]*)"')
EDGE = re.compile(r'edge:\s*\{\s*sourcename:\s*"([^"]*)"\s*targetname:\s*"([^"]*)"(?:\s*label:\s*"([^"]*)")?')
FRAME = re.compile(r'(\d+) bytes \(([^)]*)\)')
HEADER = 'rocketmq_producer.h'


def parse_ci(path):
    """Nodes {title: (name, 'file:line:col', frame, qualifier)} and edges [(src, dst, where)]."""
    nodes, edges = {}, []
    with open(path, encoding='utf-8', errors='replace') as f:
        for line in f:
            m = NODE.search(line)
            if m:
                title, label = m.group(1), m.group(2)
                parts = label.split('\\n')
                name = parts[0]
                where = parts[1] if len(parts) > 1 else ''
                fm = FRAME.search(label)
                frame = int(fm.group(1)) if fm else 0
                qual = fm.group(2) if fm else ''
                nodes[title] = (name, where, frame, qual)
                continue
            m = EDGE.search(line)
            if m:
                edges.append((m.group(1), m.group(2), m.group(3) or ''))
    return nodes, edges


def read_sources(paths):
    """{basename: [lines]} of the sources."""
    out = {}
    for p in paths:
        with open(p, encoding='utf-8', errors='replace') as f:
            out[p.rsplit('/', 1)[-1]] = f.read().split('\n')
    return out


def strip_comments(text):
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    return re.sub(r'//[^\n]*', ' ', text)


def top_level_args(text, start):
    """Argument count of the call whose '(' is at text[start]; None if unbalanced."""
    depth, count, seen = 0, 0, False
    for ch in text[start:]:
        if ch == '(':
            depth += 1
            if depth == 1:
                continue
        elif ch == ')':
            depth -= 1
            if depth == 0:
                return count + 1 if seen else 0
        elif ch == ',' and depth == 1:
            count += 1
        if depth >= 1 and not ch.isspace():
            seen = True
    return None


def param_types(params):
    """'const char *host, uint16_t port' -> ('const char *', 'uint16_t')."""
    params = params.strip()
    if params in ('', 'void'):
        return ()
    out = []
    for p in params.split(','):
        toks = re.findall(r'[A-Za-z_]\w*|\*', p)
        if len(toks) > 1 and toks[-1] != '*':
            toks = toks[:-1]                     # the parameter's name
        out.append(' '.join(toks).replace(' *', '*'))
    return tuple(out)


def pointer_types(code):
    """{name: parameter types} of every function-pointer declaration: the
    typedefs, struct members written `ret (*name)(...)`, and members,
    parameters and locals declared with one of those typedefs."""
    typedefs = {}
    for m in re.finditer(r'typedef[^;(]*\(\s*\*\s*(\w+)\s*\)\s*\(([^;]*?)\)\s*;', code, flags=re.S):
        typedefs[m.group(1)] = param_types(m.group(2))
    names = {}
    for m in re.finditer(r'\(\s*\*\s*(\w+)\s*\)\s*\(([^;{]*?)\)\s*;', code, flags=re.S):
        names.setdefault(m.group(1), set()).add(param_types(m.group(2)))
    if typedefs:
        alt = '|'.join(sorted(map(re.escape, typedefs)))
        for m in re.finditer(r'\b(' + alt + r')\s+(?:const\s+)?(\w+)\s*[;,)=]', code):
            names.setdefault(m.group(2), set()).add(typedefs[m.group(1)])
    return names


def scan_code(code, names):
    """Parameter types of the named functions' definitions, and the set of
    those named somewhere other than as the callee of a call (address taken)."""
    wanted = set(names)
    arity, taken = {}, set()
    for m in re.finditer(r'[A-Za-z_]\w*', code):
        name = m.group(0)
        if name not in wanted:
            continue
        rest = code[m.end():m.end() + 400].lstrip()
        if not rest.startswith('('):
            taken.add(name)
            continue
        if name in arity:
            continue
        d = re.match(r'\(([^;{()]*(?:\([^()]*\)[^;{()]*)*)\)\s*\{', rest)
        if d:
            arity[name] = param_types(d.group(1))
    return arity, taken


def call_site(sources, where):
    """(the pointer's name: member or variable, argument count) of the call
    at 'file:line:col'; None for what cannot be read."""
    m = re.match(r'(.*):(\d+):(\d+)$', where)
    if not m:
        return None, None
    lines = sources.get(m.group(1).rsplit('/', 1)[-1])
    if not lines:
        return None, None
    row, col = int(m.group(2)) - 1, int(m.group(3)) - 1
    text = '\n'.join(lines[row:row + 8])
    paren = text.find('(', col)
    if paren < 0:
        return None, None
    ids = re.findall(r'[A-Za-z_]\w*', text[col:paren])
    return (ids[-1] if ids else None), top_level_args(text, paren)


def image_symbols(path):
    """Names defined in the image, also without GCC's clone number (.0)."""
    names = set()
    with open(path, encoding='utf-8', errors='replace') as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3:
                names.add(parts[-1])
                names.add(re.sub(r'\.\d+$', '', parts[-1]))
    return names


def components(graph, root):
    """{function: component number} of what root reaches (Tarjan)."""
    index, low, comp, stack, onstack = {}, {}, {}, [], set()
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        onstack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in onstack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            while True:
                w = stack.pop()
                onstack.discard(w)
                comp[w] = v
                if w == v:
                    break

    sys.setrecursionlimit(max(10000, sys.getrecursionlimit()))
    visit(root)
    return comp


def main(argv):
    kept = None
    if '--nm' in argv:
        at = argv.index('--nm')
        kept = image_symbols(argv[at + 1])
        del argv[at:at + 2]
    if '--' not in argv or len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    cut = argv.index('--')
    ci, srcs, roots = argv[1], argv[2:cut], argv[cut + 1:]
    nodes, edges = parse_ci(ci)
    if kept is not None:
        # A root may be inlined into its caller and gone from the image; its
        # own frame and callees still describe a call to it.
        nodes = {t: v for t, v in nodes.items()
                 if v[0] in kept or v[0] in roots or not v[1] or v[1].startswith('<')}
        edges = [e for e in edges if e[0] in nodes and (e[1] in nodes or e[1] == '__indirect_call')]
    sources = read_sources(srcs)
    code = strip_comments('\n'.join('\n'.join(v) for v in sources.values()))

    by_name = {}
    for title, (name, _, _, _) in nodes.items():
        by_name.setdefault(name, title)
    defined = [n for t, (n, w, _, _) in nodes.items() if w and not w.startswith('<')]
    types, taken = scan_code(code, defined)
    pointers = pointer_types(code)

    direct, resolved, unresolved = {}, {}, 0
    for src, dst, where in edges:
        if dst == '__indirect_call':
            name, n = call_site(sources, where)
            if name in pointers:
                targets = [by_name[f] for f in taken if types.get(f) in pointers[name]]
            elif n is not None:
                targets = [by_name[f] for f in taken if f in types and len(types[f]) == n]
            else:
                targets = [by_name[f] for f in taken]    # unreadable: anything
                unresolved += 1
            resolved.setdefault(src, set()).update(targets)
            continue
        direct.setdefault(src, set()).add(dst)
        resolved.setdefault(src, set()).add(dst)

    def frame_of(t):
        return nodes.get(t, ('', '', 0, ''))[2]

    def deepest(graph, root, cycles):
        """The heaviest chain from root that calls no function twice. The
        best continuation from v depends only on which functions of v's
        strongly connected component the chain already holds, so that is
        what is remembered."""
        comp = components(graph, root)
        groups = {}
        for v, c in comp.items():
            groups.setdefault(c, []).append(v)
        for vs in groups.values():
            if len(vs) > 1 or vs[0] in graph.get(vs[0], ()):
                text = ' <-> '.join(sorted(nodes[v][0] if v in nodes else v for v in vs))
                if text not in cycles:
                    cycles.append(text)
        memo = {}

        def walk(v, held):
            key = (v, held)
            if key not in memo:
                here = held | frozenset([v]) if len(groups[comp[v]]) > 1 else held
                best, chain = 0, []
                for w in sorted(graph.get(v, ())):
                    if comp[w] == comp[v]:
                        if w in here or w == v:
                            continue
                        d, ch = walk(w, here)
                    else:
                        d, ch = walk(w, frozenset())
                    if d > best:
                        best, chain = d, ch
                memo[key] = (frame_of(v) + best, [v] + chain)
            return memo[key]

        return walk(root, frozenset())

    lib = [(f, n) for t, (n, w, f, q) in nodes.items() if HEADER in w]
    lib.sort(reverse=True)
    dynamic = [n for t, (n, w, f, q) in nodes.items() if HEADER in w and q != 'static']

    def one(t):
        return '%s(%d)' % (nodes[t][0], nodes[t][2]) if t in nodes else t

    def show(chain):
        return ' > '.join(one(t) for t in chain)

    rows = []
    if lib:
        rows.append(('max_frame', lib[0][0], lib[0][1]))
    for frame, name in lib[:8]:
        rows.append(('frame', frame, name))
    for name in dynamic:
        rows.append(('dynamic_frame', 0, name))
    recursion, cycles = [], []
    for root in roots:
        t = by_name.get(root)
        if not t:
            rows.append(('missing', 0, root))
            continue
        d, ch = deepest(direct, t, recursion)
        rows.append(('direct', d, root + ': ' + show(ch)))
        d, ch = deepest(resolved, t, cycles)
        rows.append(('resolved', d, root + ': ' + show(ch)))
    for text in recursion:
        rows.append(('recursion', 0, text))
    rows.append(('resolved_cycles', len(cycles), ', '.join(cycles)))
    rows.append(('indirect_targets', len(taken), ' '.join(sorted(taken))))
    if unresolved:
        rows.append(('unresolved_indirect', unresolved, 'call sites not read (sources changed?): taken to reach any'))
    for key, num, text in rows:
        print('%s %d %s' % (key, num, text))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
