#!/usr/bin/env python3
"""Prints the modules of src/ in dependency order (each after every module it
uses), or the import circle and exits 1 if there is one.

A module is a file of src/ or a folder with a mod.rs (src/stream/, src/net/,
src/ffi/): its submodules count as the folder. An edge A -> B is a `use crate::B`
(or a `crate::B::` path) anywhere in A's files outside its #[cfg(test)] part:
tests may reach anywhere. `lib` (the crate root) is left out; it names everyone.

    scripts/modules.py            the order, one module a line with what it uses
    scripts/modules.py --check    prints nothing but a circle; exit status 1 on one
"""
import re
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PATH = re.compile(r"\bcrate::(\w+)")
GROUP = re.compile(r"\buse crate::\{([^;]*)\};", re.S)


def modules():
    """Every module with the text of its files (tests cut off)."""
    found = {}
    for f in sorted(SRC.rglob("*.rs")):
        rel = f.relative_to(SRC)
        name = rel.parts[0].removesuffix(".rs")
        if name == "lib":
            continue
        text = f.read_text()
        cut = text.find("#[cfg(test)]")
        found[name] = found.get(name, "") + (text if cut < 0 else text[:cut])
    return found


def edges(found):
    graph = {}
    for name, text in found.items():
        used = set(PATH.findall(text))
        for group in GROUP.findall(text):
            used |= {p.split("::")[0].strip() for p in re.split(r",(?![^{]*\})", group) if p.strip()}
        graph[name] = sorted(u for u in used if u in found and u != name)
    return graph


def order(graph):
    """Depth-first topological order; returns (order, None) or (None, circle)."""
    done, active, out = set(), [], []

    def visit(n):
        if n in done:
            return None
        if n in active:
            return active[active.index(n):] + [n]
        active.append(n)
        for m in graph[n]:
            circle = visit(m)
            if circle:
                return circle
        active.pop()
        done.add(n)
        out.append(n)
        return None

    for n in sorted(graph):
        circle = visit(n)
        if circle:
            return None, circle
    return out, None


def main():
    graph = edges(modules())
    ordered, circle = order(graph)
    if circle:
        print("import circle: " + " -> ".join(circle), file=sys.stderr)
        return 1
    if "--check" not in sys.argv[1:]:
        for n in ordered:
            print(f"{n:10} uses {', '.join(graph[n]) or '(nothing of the crate)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
