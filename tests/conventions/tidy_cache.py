#!/usr/bin/env python3
"""Remembers which translation units clang-tidy found clean, so that CI
runs it again only on those whose inputs changed (issue 17 item 5: the
whole tree costs about 6 minutes of both cores of this machine).

A unit's key is the SHA-256 of everything a clean result depends on:
.clang-tidy, clang-tidy's version, the unit's compile command, and the
content of every file the build recorded it as including (ninja's deps log;
files under /usr by path, size and mtime). A unit whose key is in the cache
was clean with exactly those inputs.

    tidy_cache.py stale BUILD_DIR KEYS FILE...  prints the FILEs to check,
                                                writes their keys to KEYS
    tidy_cache.py record KEYS                   remembers those as clean

The keys are taken before clang-tidy runs: a file edited meanwhile is not
recorded clean with content it was not checked with.

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
    directory = cache_dir()
    if len(sys.argv) >= 4 and sys.argv[1] == "stale":
        build, key_file, files = sys.argv[2], sys.argv[3], sys.argv[4:]
        with open(key_file, "w") as out:
            for name, key in keys(build, files).items():
                if key is None or not os.path.exists(os.path.join(directory, key)):
                    print(name)
                    if key is not None:
                        out.write(key + "\n")
        return 0
    if len(sys.argv) == 3 and sys.argv[1] == "record":
        os.makedirs(directory, exist_ok=True)
        with open(sys.argv[2]) as f:
            for key in f.read().split():
                open(os.path.join(directory, key), "w").close()
        return 0
    print("usage: tidy_cache.py stale BUILD_DIR KEYS FILE... | record KEYS", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
