#!/usr/bin/env python3
"""ALBM: find include cycles between the modules of src/ (scripts/lint.sh cycles).

A module is a .c/.h pair by path stem (src/distributor/config.{c,h} is one module);
the `#include "..."` lines of both files are the module's edges.  A types-only
`*-t.h` header is its own module: it includes only what types need (other -t.h
headers, leaves such as common/addr.h, system headers), never the modules that use
it, so it closes no cycle, and that makes it the place for types two modules share.  Every strongly connected component of more than one module is a
cycle: each is printed with the include lines that form it.  Exit 0 none, 1 cycles
found, 2 usage.

  scripts/include_cycles.py [ROOT]     ROOT defaults to the tree's src/

Python 3 standard library only.
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
SOURCE_EXT = ('.c', '.h')


def module_of(path):
    """The module a file belongs to: its path without the .c/.h extension."""
    return os.path.splitext(path)[0]


def resolve(name, including, root, search):
    """The file an #include "name" in file `including` means, or None (outside the tree)."""
    for base in [os.path.dirname(including)] + search:
        cand = os.path.normpath(os.path.join(base, name))
        if os.path.isfile(cand) and cand.startswith(root + os.sep):
            return cand
    return None


def source_files(root):
    for d, _, files in os.walk(root):
        for f in sorted(files):
            if f.endswith(SOURCE_EXT):
                yield os.path.join(d, f)


def build_graph(root, search):
    """module -> {included module: [(file, line number, included file)]}."""
    graph = {}
    for path in source_files(root):
        mod = module_of(path)
        edges = graph.setdefault(mod, {})
        with open(path, encoding='utf-8', errors='replace') as fh:
            for no, line in enumerate(fh, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                target = resolve(m.group(1), path, root, search)
                if target is None or module_of(target) == mod:
                    continue
                edges.setdefault(module_of(target), []).append((path, no, target))
    return graph


def components(graph):
    """Tarjan's strongly connected components, iteratively (no recursion limit)."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, {}))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, {})))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    comp.append(top)
                    if top == node:
                        break
                out.append(sorted(comp))
    return out


def shortest_cycle(graph, comp):
    """One shortest cycle through the component's first module (breadth-first)."""
    members = set(comp)
    first = comp[0]
    prev = {first: None}
    queue = [first]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph.get(node, {})):
            if nxt not in members:
                continue
            if nxt == first:
                path = [node]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return list(reversed(path)) + [first]
            if nxt not in prev:
                prev[nxt] = node
                queue.append(nxt)
    return comp


def report(graph, comp, rel):
    cycle = shortest_cycle(graph, comp)
    print('cycle: ' + ' -> '.join(rel(m) for m in cycle))
    if len(comp) > len(cycle) - 1:
        print('  component: ' + ', '.join(rel(m) for m in comp))
    members = set(comp)
    for mod in comp:
        for dst in sorted(graph.get(mod, {})):
            if dst not in members:
                continue
            for path, no, target in graph[mod][dst]:
                print('  %s:%d includes %s' % (rel(path), no, rel(target)))


def main(argv):
    top = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
    root = os.path.abspath(argv[1]) if len(argv) > 1 else os.path.join(top, 'src')
    if not os.path.isdir(root):
        print('include_cycles: %s: not a directory' % root, file=sys.stderr)
        return 2
    # the compiler's -Isrc -Iinclude, after the including file's own directory
    search = [root, os.path.join(os.path.dirname(root), 'include')]
    graph = build_graph(root, search)
    cycles = [c for c in components(graph) if len(c) > 1]

    def rel(p):
        return os.path.relpath(p, os.path.dirname(root))

    for comp in cycles:
        report(graph, comp, rel)
    if cycles:
        print('%d include cycle(s) between modules of %s' % (len(cycles), rel(root)))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
