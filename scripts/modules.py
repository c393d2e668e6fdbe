#!/usr/bin/env python3
"""Prints the modules of src/ in dependency order (each after every module it
uses), or the import circle and exits 1 if there is one.

Every file is a module of its own, named by its path: `decoder`, `stream` (its
mod.rs), `stream::worker`, `ffi::request`. An edge A -> B is a use of B's items
anywhere in A's file outside its #[cfg(test)] part (tests may reach anywhere):
a `use` (groups, `self`, `super`, a submodule's own name from its mod.rs) or an
inline path (`crate::`, `super::`, or a submodule's name in its parent: `socket::X`
in net/mod.rs). A use through a re-export (`crate::Error`, made
by lib.rs's `pub use error::Error`; `crate::ffi::backend_api_error`, by a glob of
ffi/mod.rs) is an edge to the module that defines the item. `lib` and each
folder's mod.rs name their submodules and re-export them: their `mod` and
`pub use` lines are not edges; any other use in a mod.rs is.

Every circle is seen, at any depth: a part using what its own folder's mod.rs
defines while the mod.rs uses the part (stream::worker -> stream -> stream::worker;
what parts share lives in a sibling, stream::shared), between siblings
(ffi::request <-> ffi::stream), and through any module outside the folder
(stream::worker -> client -> stream).

    scripts/modules.py            the order, one module a line with what it uses
    scripts/modules.py --check    prints nothing but a circle; exit status 1 on one
                                  (2 when its own known-answer crates fail)
"""
import re
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
USE = re.compile(r"^\s*(pub(?:\([^)]*\))?\s+)?use\s+([^;]*);", re.M | re.S)
INLINE = re.compile(r"(?<![\w:])((?:crate|super)(?:::\w+)+)")
ITEM = re.compile(r"^\s*pub(?:\([^)]*\))?\s+(?:unsafe\s+)?(?:extern\s+\"C\"\s+)?"
                  r"(?:fn|struct|enum|const|static|type|trait|mod|macro)\s+(\w+)", re.M)
RELATIVE = re.compile(r"(?<![\w:])(\w+(?:::\w+)+)")
COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)


def modules(files):
    """Every module by path ("" is lib) with the code of its file, tests cut off;
    `files` maps each file's path under src/ to its text."""
    found = {}
    for rel, text in sorted(files.items()):
        parts = list(Path(rel).with_suffix("").parts)
        if parts[-1] == "mod" or parts == ["lib"]:
            parts = parts[:-1]
        text = COMMENT.sub("", text)
        cut = text.find("#[cfg(test)]")
        found["::".join(parts)] = text if cut < 0 else text[:cut]
    return found


def source():
    return {str(f.relative_to(SRC)): f.read_text() for f in SRC.rglob("*.rs")}


def expand(tree):
    """The paths a use tree names: `a::{b, c::{d, e}}` -> a::b, a::c::d, a::c::e."""
    tree = re.sub(r"\s+", "", tree)
    brace = tree.find("{")
    if brace < 0:
        return [re.sub(r"as\w+$", "", tree.replace(" ", ""))]
    head, body = tree[:brace], tree[brace + 1:tree.rindex("}")]
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(body):
        depth += ch == "{"
        depth -= ch == "}"
        if ch == "," and depth == 0:
            parts.append(body[start:i])
            start = i + 1
    parts.append(body[start:])
    out = []
    for p in filter(None, parts):
        for sub in expand(p):
            out.append((head + sub) if sub != "self" else head.rstrip(":"))
    return out


def absolute(path, here, mods):
    """`path` as seen from module `here`, from the crate root: a list of segments."""
    segs = [s for s in path.split("::") if s]
    base = here.split("::") if here else []
    if segs[0] == "crate":
        return segs[1:]
    if segs[0] in ("self", "super"):
        while segs and segs[0] in ("self", "super"):
            if segs.pop(0) == "super":
                base = base[:-1]
        return base + segs
    if "::".join(base + segs[:1]) in mods:  # a submodule named from its parent
        return base + segs
    return None  # another crate or the standard library


def defines(mods):
    """Items each module defines, and the re-exports each makes: name -> path."""
    own = {m: set(ITEM.findall(t)) for m, t in mods.items()}
    reexports = {}
    for m, text in mods.items():
        for pub, tree in USE.findall(text):
            if not pub:
                continue
            for p in expand(tree):
                segs = absolute(p, m, mods)
                if segs:
                    reexports.setdefault(m, []).append(segs)
    return own, reexports


def target(segs, mods, own, reexports, seen=()):
    """The module that defines what `segs` (a path from the root) names."""
    for n in range(len(segs), -1, -1):
        mod = "::".join(segs[:n])
        if mod not in mods:
            continue
        rest = segs[n:]
        if not rest or rest[0] in own[mod] or rest == ["*"] or (mod, rest[0]) in seen:
            return mod
        for r in reexports.get(mod, []):
            if r[-1] == rest[0]:
                return target(r, mods, own, reexports, seen + ((mod, rest[0]),))
            if r[-1] == "*":
                t = target(r[:-1] + rest[:1], mods, own, reexports, seen + ((mod, rest[0]),))
                if t != "::".join(r[:-1]) or rest[0] in own.get(t, ()):
                    return t
        return mod
    return None


def edges(mods):
    own, reexports = defines(mods)
    graph = {}
    for m, text in mods.items():
        paths = []
        for pub, tree in USE.findall(text):
            if pub and m in roots(mods):
                continue  # a root's re-exports name its submodules
            paths += expand(tree)
        code = USE.sub("", text)
        paths += INLINE.findall(code)
        # an inline path through a submodule named from its parent (`socket::X` in net/mod.rs)
        paths += [p for p in RELATIVE.findall(code) if f"{m}::{p.split('::')[0]}".lstrip(":") in mods]
        used = set()
        for p in paths:
            segs = absolute(p, m, mods)
            t = segs is not None and target(segs, mods, own, reexports)
            if t is None or t is False or t == m or t == "":
                continue
            used.add(t)
        graph[m] = sorted(used)
    del graph[""]
    return graph


def roots(mods):
    """lib and the folders' mod.rs: the modules that have submodules."""
    return {m.rsplit("::", 1)[0] if "::" in m else "" for m in mods if m}


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


# Small crates with a known answer, checked before every --check: the checker
# must keep seeing each kind of circle, or a circle in src/ would go unseen.
SELF_TEST = [
    ("two siblings of a folder", "a::x -> a::y -> a::x", {
        "lib.rs": "pub mod a;",
        "a/mod.rs": "mod x;\nmod y;\npub use x::*;\npub use y::*;",
        "a/x.rs": "use super::y::Y;\npub struct X;",
        "a/y.rs": "use super::{x::X, self as me};\npub struct Y;",
    }),
    ("a use through the crate root's re-export", "a -> b -> a", {
        "lib.rs": "pub mod a;\npub mod b;\npub use b::B;",
        "a.rs": "use crate::B;\npub struct A;",
        "b.rs": "pub struct B(crate::a::A);",
    }),
    ("an inline path through a folder's glob re-export", "f::p -> f::q -> f::p", {
        "lib.rs": "pub mod f;",
        "f/mod.rs": "mod p;\nmod q;\npub use p::*;\npub use q::*;",
        "f/p.rs": "pub fn pf() {\n    crate::f::qf();\n}",
        "f/q.rs": "pub fn qf() {\n    super::p::pf();\n}",
    }),
    ("a mod.rs naming its part inline, the part using the mod.rs", "a -> a::x -> a", {
        "lib.rs": "pub mod a;",
        "a/mod.rs": "mod x;\npub fn f() {\n    x::g();\n}",
        "a/x.rs": "pub fn g() {}\npub fn h() {\n    super::f();\n}",
    }),
    ("a part using what its folder's mod.rs defines", "a -> a::x -> a", {
        "lib.rs": "pub mod a;",
        "a/mod.rs": "mod x;\nuse x::X;\npub struct Shared;",
        "a/x.rs": "use super::Shared;\npub struct X;",
    }),
    ("none: tests, comments and parts sharing a sibling", None, {
        "lib.rs": "pub mod a;\npub mod b;",
        "a/mod.rs": "mod s;\nmod x;\nuse x::X;\npub use s::Shared;\n// crate::b::B",
        "a/s.rs": "pub struct Shared;",
        "a/x.rs": "use super::s::Shared;\npub struct X;",
        "b.rs": "use crate::a::Shared;\npub struct B;\n#[cfg(test)]\nmod t { use crate::a::x; }",
    }),
]


def self_test():
    """The known answers of SELF_TEST; a list of what went wrong."""
    wrong = []
    for what, expected, files in SELF_TEST:
        _, circle = order(edges(modules(files)))
        found = circle and " -> ".join(circle)
        if found != expected:
            wrong.append(f"{what}: expected {expected or 'no circle'}, found {found or 'none'}")
    return wrong


def main():
    wrong = self_test()
    if wrong:
        print("scripts/modules.py no longer sees every circle:", *wrong, sep="\n  ", file=sys.stderr)
        return 2
    graph = edges(modules(source()))
    ordered, circle = order(graph)
    if circle:
        print("import circle: " + " -> ".join(circle), file=sys.stderr)
        return 1
    if "--check" not in sys.argv[1:]:
        width = max(map(len, ordered))
        for n in ordered:
            print(f"{n:{width}} uses {', '.join(graph[n]) or '(nothing of the crate)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
