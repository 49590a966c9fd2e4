#!/usr/bin/env python3
"""Checks every #include of etuner's own headers against the module table.

The table is cmake/modules.txt (its header says the rule); CMake builds the link lists from
the same file. A file under src/<module>/ may include its module's own headers and the
public headers (include/etuner/) of the modules its table line lists; tools/<program>/ the
same with its `program` line; a public header counts as a file of its owning module.

Also checked: the table itself (known names, no cycles, every src/ folder and public header
declared), that the umbrella header includes every public header, and that every exception
is still needed.

  scripts/check_includes.py [--root DIR]      exit 0: clean; 1: problems, one per line
"""
import argparse
import re
import sys
from pathlib import Path

TABLE = "cmake/modules.txt"
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
SOURCE_SUFFIXES = {".cpp", ".h", ".hpp", ".cc"}


class Table:
    def __init__(self):
        self.deps = {}  # module or program -> set of modules it may use
        self.folders = {}  # folder relative to the root -> module or program
        self.modules = []
        self.owners = {}  # public header file name -> owning module ("package": the umbrella)
        self.exceptions = {}  # (module or file, included text) -> table line number


def read_table(root, problems):
    t = Table()
    for number, raw in enumerate((root / TABLE).read_text().splitlines(), 1):
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        kind, args = words[0], words[1:]
        where = f"{TABLE}:{number}"
        if kind == "module" and args:
            t.modules.append(args[0])
            t.deps[args[0]] = set(args[1:])
            t.folders[f"src/{args[0]}"] = args[0]
        elif kind == "program" and len(args) >= 2:
            t.deps[args[0]] = set(args[2:])
            t.folders[args[1]] = args[0]
        elif kind == "header" and len(args) == 2:
            t.owners[args[0]] = args[1]
        elif kind == "exception" and len(args) == 2:
            t.exceptions[(args[0], args[1])] = number
        else:
            problems.append(f"{where}: cannot read `{raw.strip()}` (see the file's header)")
    return t


def check_table(root, t, problems):
    for user, deps in t.deps.items():
        for d in sorted(deps - set(t.modules)):
            problems.append(f"{TABLE}: {user} uses `{d}`, which has no `module` line")
    for h, owner in t.owners.items():
        if owner != "package" and owner not in t.modules:
            problems.append(f"{TABLE}: header {h} is owned by `{owner}`, which has no `module` line")
    for d in sorted(p.name for p in (root / "src").iterdir() if p.is_dir()):
        if d not in t.modules:
            problems.append(f"src/{d}/ is not a module: add `module {d} <modules it uses>` to {TABLE}")
    programs = {f for f in t.folders if f.startswith("tools/")}
    for d in sorted(p for p in (root / "tools").iterdir() if p.is_dir()):
        if f"tools/{d.name}" not in programs:
            problems.append(f"tools/{d.name}/ is not a program: add `program <name> tools/{d.name} "
                            f"<modules it uses>` to {TABLE}")
    for m in t.modules:
        if not (root / "src" / m).is_dir():
            problems.append(f"{TABLE}: module {m} has no folder src/{m}/")
    public = sorted(p.name for p in (root / "include/etuner").glob("*.h"))
    for h in public:
        if h not in t.owners:
            problems.append(f"include/etuner/{h} has no owner: add `header {h} <module>` to {TABLE}")
    for h in t.owners:
        if h not in public:
            problems.append(f"{TABLE}: header {h} does not exist under include/etuner/")
    cycle = find_cycle({m: t.deps[m] for m in t.modules})
    if cycle:
        problems.append(f"{TABLE}: dependency cycle {' -> '.join(cycle)} (modules link in one direction)")


def find_cycle(graph):
    state = {}  # 1: on the current path, 2: done

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt] if nxt in path else path + [nxt]
            if nxt not in state:
                found = visit(nxt, path + [nxt])
                if found:
                    return found
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node, [node])
            if found:
                return found
    return None


def resolve(root, path, text):
    """The etuner file an include names, as the compiler finds it: next to the including
    file, then include/, then src/. None for anything else (system or third-party)."""
    for base in (path.parent, root / "include", root / "src"):
        candidate = (base / text).resolve()
        if candidate.is_file() and candidate.is_relative_to(root):
            return candidate.relative_to(root)
    return None


def owner_of(rel, t):
    """(unit, public): the module or program a file belongs to, and whether it is public."""
    parts = rel.parts
    if parts[:2] == ("include", "etuner") and len(parts) == 3:
        return t.owners.get(parts[2]), True
    for folder, unit in t.folders.items():
        if rel.as_posix().startswith(folder + "/"):
            return unit, False
    return None, False


def check_file(root, path, t, used, problems):
    rel = path.relative_to(root)
    unit, _ = owner_of(rel, t)
    if unit is None or unit == "package":
        return
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        m = INCLUDE_RE.match(line)
        if not m:
            continue
        text = m.group(2)
        target = resolve(root, path, text)
        if target is None:
            continue
        owner, public = owner_of(target, t)
        if owner == unit or owner is None or (public and owner in t.deps[unit]):
            continue
        key = next((k for k in ((rel.as_posix(), text), (unit, text)) if k in t.exceptions), None)
        if key:
            used.add(key)
        elif public:
            problems.append(public_message(rel, number, text, unit, owner, t))
        else:
            problems.append(
                f"{rel}:{number}: #include \"{text}\" is private to module {owner} ({target.parent}/); "
                f"only {owner}'s own files may include it. Move what {unit} needs into "
                f"{owner}'s public header (owners: `header` lines in {TABLE}).")


def public_message(rel, number, text, unit, owner, t):
    if owner == "package":
        return (f"{rel}:{number}: #include \"{text}\" is the umbrella header for users; "
                f"inside etuner include the headers you use.")
    allowed = ", ".join(sorted(t.deps[unit])) or "none"
    return (f"{rel}:{number}: #include \"{text}\": {unit} may not use module {owner} "
            f"(it may use: {allowed}). If it should, add {owner} to the line of {unit} in "
            f"{TABLE}; CMake's link list follows from it.")


def check_umbrella(root, t, problems):
    umbrella = [h for h, owner in t.owners.items() if owner == "package"]
    for u in umbrella:
        text = (root / "include/etuner" / u).read_text()
        for h in sorted(t.owners):
            if h not in umbrella and f"etuner/{h}" not in text:
                problems.append(f"include/etuner/{u} does not include etuner/{h}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=Path(__file__).resolve().parent.parent, type=Path)
    root = parser.parse_args().root.resolve()
    problems = []
    t = read_table(root, problems)
    check_table(root, t, problems)
    check_umbrella(root, t, problems)
    used = set()
    folders = ["include/etuner", "src"] + [f for f in t.folders if not f.startswith("src/")]
    files = sorted(p for f in folders for p in (root / f).rglob("*") if p.suffix in SOURCE_SUFFIXES)
    for path in files:
        check_file(root, path, t, used, problems)
    for key, number in sorted(t.exceptions.items(), key=lambda kv: kv[1]):
        if key not in used:
            problems.append(f"{TABLE}:{number}: exception `{key[0]} {key[1]}` is no longer needed: "
                            f"remove it")
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"includes: {len(problems)} problem(s); the rule is in {TABLE}", file=sys.stderr)
        return 1
    print(f"includes: {len(files)} files follow {TABLE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
