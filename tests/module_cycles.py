#!/usr/bin/env python3
"""Finds modules of a Rust crate that import each other in a circle (docs/architecture.md).

    python3 tests/module_cycles.py CRATE_DIR...     (e.g. core ffi)

A module is a file: src/a/b.rs and src/a/b/mod.rs are `a::b`; lib.rs is the crate root.
Module m imports module n when m's code names n or an item of n: in a `use` (other than a
`pub use`), or in a path that starts with `crate::`, `self::`, `super::` or the name of one
of m's child modules. Two declarations are not imports: `mod x;`, and a `pub use`, which only
says where an item is offered (a path through a `pub use` is followed to where the item
really is). Test code (`#[cfg(test)] mod ... { }`) may import anything and is left out.

Prints every set of modules that import each other in a circle (a strongly connected
component of more than one module) and exits 1 when there is one. A text-level reader of
Rust, not a compiler: macros that build paths are not seen.
"""
import os
import re
import sys

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def modules(src):
    """Maps each module path ('' for the root, 'a::b') to its file."""
    mods = {}
    for dirpath, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, f), src)[:-3].split(os.sep)
            if rel[-1] in ("mod", "lib"):
                rel = rel[:-1]
            if rel == ["main"] or (rel and rel[0] == "bin"):
                continue  # a binary is another crate
            mods["::".join(rel)] = os.path.join(dirpath, f)
    return mods


def strip(text):
    """The code without comments, string and char literals."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif c == "r" and re.match(r'r#*"', text[i:i + 300]) and (i == 0 or not re.match(r"\w", text[i - 1])):
            hashes = re.match(r'r(#*)"', text[i:]).group(1)
            end = text.find('"' + hashes, i + 2 + len(hashes))
            out.append('""')
            i = n if end < 0 else end + 1 + len(hashes)
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""')
            i = j + 1
        elif c == "'" and re.match(r"'(\\.|[^\\'])'|'\\u\{[0-9a-fA-F]+\}'|'\\x[0-9a-fA-F]{2}'", text[i:i + 12]):
            m = re.match(r"'(\\.|[^\\'])'|'\\u\{[0-9a-fA-F]+\}'|'\\x[0-9a-fA-F]{2}'", text[i:i + 12])
            out.append("' '")
            i += len(m.group(0))
        else:
            out.append(c)
            i += 1
    return "".join(out)


def without_tests(text):
    """The code without `#[cfg(test)]` modules."""
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]\s*(pub(\([^)]*\))?\s+)?mod\s+\w+\s*\{", text):
        if m.start() < i:
            continue
        out.append(text[i:m.start()])
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        i = j
    out.append(text[i:])
    return "".join(out)


def expand(tree):
    """`a::{b, c::{d as e}, self}` -> [('a::b', 'b'), ('a::c::d', 'e'), ('a', 'a')]."""
    tree = tree.strip()
    if "{" not in tree:
        m = re.match(r"(.*?)\s+as\s+(\w+)$", tree)
        path, name = (m.group(1), m.group(2)) if m else (tree, tree.split("::")[-1])
        return [(path.replace(" ", ""), name)]
    head, rest = tree.split("{", 1)
    head = head.strip().replace(" ", "")
    body = rest[: rest.rfind("}")]
    parts, depth, cur = [], 0, ""
    for ch in body:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += (ch == "{") - (ch == "}")
        cur += ch
    parts.append(cur)
    out = []
    for p in (p.strip() for p in parts):
        if p == "self":
            out.append((head.rstrip(":"), head.rstrip(":").split("::")[-1]))
        elif p:
            out += expand(head + p)
    return out


class Crate:
    def __init__(self, src):
        self.mods = modules(src)
        self.code = {m: without_tests(strip(open(f, encoding="utf-8").read())) for m, f in self.mods.items()}
        self.uses = {}  # module -> [(path, name, public)]
        for m, text in self.code.items():
            found = []
            for u in re.finditer(r"(\bpub(?:\s*\([^)]*\))?\s+)?\buse\s+([^;]+);", text):
                for path, name in expand(u.group(2)):
                    found.append((path, name, bool(u.group(1))))
            self.uses[m] = found

    def children(self, m):
        prefix = m + "::" if m else ""
        return {k[len(prefix):] for k in self.mods if k.startswith(prefix) and "::" not in k[len(prefix):] and k != m}

    def absolute(self, path, here):
        """`path` as written in module `here`, as segments from the crate root (or None for
        an external crate or a local item)."""
        segs = [s for s in path.split("::") if s]
        if not segs:
            return None
        base = here.split("::") if here else []
        if segs[0] == "crate":
            return segs[1:]
        if segs[0] in ("self", "super"):
            while segs and segs[0] in ("self", "super"):
                if segs[0] == "super":
                    base = base[:-1]
                segs = segs[1:]
            return base + segs
        if segs[0] in self.children(here):
            return base + segs
        return None

    def target(self, segs, depth=0):
        """The module that defines what `segs` (absolute) names, following `pub use`s."""
        for k in range(len(segs), -1, -1):
            mod = "::".join(segs[:k])
            if mod not in self.mods:
                continue
            if k == len(segs) or depth > 16:
                return mod
            name = segs[k]
            for path, alias, public in self.uses[mod]:
                if public and alias == name:
                    inner = self.absolute(path, mod)
                    if inner is None:
                        return mod  # re-exported from another crate: the file is the end
                    return self.target(inner + segs[k + 1:], depth + 1)
            globs = [p for p, a, public in self.uses[mod] if public and a == "*"]
            for g in globs:
                inner = self.absolute(g[:-3], mod)
                if inner is not None:
                    return self.target(inner + segs[k:], depth + 1)
            return mod
        return None

    def edges(self):
        edges = {m: set() for m in self.mods}
        for m, text in self.code.items():
            paths = [p for p, _, public in self.uses[m] if not public]
            starts = ["crate", "self", "super"] + sorted(self.children(m))
            pattern = r"(?<![\w:])((?:%s)(?:::%s)+)" % ("|".join(map(re.escape, starts)), IDENT)
            body = re.sub(r"(\bpub(?:\s*\([^)]*\))?\s+)?\buse\s+[^;]+;", "", text)
            paths += re.findall(pattern, body)
            for p in paths:
                segs = self.absolute(p, m)
                if segs is None:
                    continue
                n = self.target(segs)
                if n is not None and n != m:
                    edges[m].add(n)
        return edges


def cycles(edges):
    index, low, stack, on, found = {}, {}, [], set(), []
    counter = 0

    def visit(v):  # Tarjan's strongly connected components, iteratively
        nonlocal counter
        work = [(v, iter(sorted(edges[v])))]
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on.add(v)
        while work:
            node, it = work[-1]
            step = next(it, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = counter
                    counter += 1
                    stack.append(step)
                    on.add(step)
                    work.append((step, iter(sorted(edges[step]))))
                elif step in on:
                    low[node] = min(low[node], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def main(dirs):
    status = 0
    for d in dirs:
        crate = Crate(os.path.join(d, "src"))
        edges = crate.edges()
        found = cycles(edges)
        name = lambda m: m or "(crate root)"
        if not found:
            print(f"{d}: {len(crate.mods)} modules, no module imports one that imports it back")
        for comp in found:
            status = 1
            print(f"{d}: {len(comp)} modules import each other in a circle: {', '.join(map(name, comp))}")
            inside = set(comp)
            for m in comp:
                print(f"    {name(m)} -> {', '.join(name(n) for n in sorted(edges[m] & inside))}")
    return status


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
