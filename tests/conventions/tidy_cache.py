#!/usr/bin/env python3
"""Remembers which translation units clang-tidy found clean, so that CI
runs it again only on those whose inputs changed (issue 17 item 5: the
whole tree costs about 6 minutes of both cores of this machine).

A unit's key is the SHA-256 of everything a clean result depends on:
.clang-tidy, clang-tidy's version, the unit's compile command, and the
content of every file the build recorded it as including (ninja's deps log;
files under /usr by path, size and mtime). A unit whose key is in the cache
was clean with exactly those inputs.

    tidy_cache.py stale BUILD_DIR FILE...   prints the FILEs to check
    tidy_cache.py record BUILD_DIR FILE...  remembers the FILEs as clean

The cache: $XDG_CACHE_HOME/sipsite/clang-tidy (~/.cache by default), one
empty file per key. A unit the build did not record (no deps yet) is stale.
"""
import hashlib
import json
import os
import subprocess
import sys


def cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "sipsite", "clang-tidy")


def deps_by_object(build):
    """ninja's deps log: object (relative to BUILD) -> the files it read."""
    out = subprocess.run(["ninja", "-C", build, "-t", "deps"], capture_output=True, text=True, check=True).stdout
    deps, current = {}, None
    for line in out.splitlines():
        if not line.strip():
            current = None
        elif not line.startswith(" "):
            obj, _, state = line.partition(": ")
            current = obj if "(VALID)" in state else None
            if current:
                deps[current] = []
        elif current:
            deps[current].append(line.strip())
    return deps


def keys(build, files):
    root = os.getcwd()
    with open(os.path.join(build, "compile_commands.json")) as f:
        commands = {os.path.realpath(os.path.join(e["directory"], e["file"])): e for e in json.load(f)}
    deps = deps_by_object(build)
    tidy = subprocess.run(["clang-tidy-14", "--version"], capture_output=True, text=True).stdout
    with open(os.path.join(root, ".clang-tidy"), "rb") as f:
        config = f.read()
    out = {}
    for name in files:
        entry = commands.get(os.path.realpath(name))
        command = entry.get("command", "") if entry else ""
        words = command.split()
        output = words[words.index("-o") + 1] if "-o" in words[:-1] else None
        if output not in deps:
            out[name] = None
            continue
        h = hashlib.sha256(config + tidy.encode() + command.encode())
        for dep in deps[output]:
            path = os.path.realpath(os.path.join(build, dep))
            h.update(path.encode() + b"\0")
            try:
                if path.startswith("/usr/"):
                    st = os.stat(path)
                    h.update(f"{st.st_size} {st.st_mtime_ns}".encode())
                else:
                    with open(path, "rb") as f:
                        h.update(f.read())
            except OSError:
                h.update(b"missing")
        out[name] = h.hexdigest()
    return out


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("stale", "record"):
        print("usage: tidy_cache.py stale|record BUILD_DIR FILE...", file=sys.stderr)
        return 2
    command, build, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    directory = cache_dir()
    for name, key in keys(build, files).items():
        if command == "stale" and (key is None or not os.path.exists(os.path.join(directory, key))):
            print(name)
        elif command == "record" and key is not None:
            os.makedirs(directory, exist_ok=True)
            open(os.path.join(directory, key), "w").close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
