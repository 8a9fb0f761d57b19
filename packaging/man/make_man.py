#!/usr/bin/env python3
"""Writes the sipsite(1) man page from the program's own --help, so the page
cannot drift from what the program accepts: the hand-written parts (what
sipsite is, files, exit status, see also) come from sipsite.1.in, and every
option and command, with its words, from `sipsite [COMMAND...] --help`.

    make_man.py SIPSITE_BINARY TEMPLATE VERSION OUTPUT
"""
import re
import subprocess
import sys


def help_text(binary, path):
    r = subprocess.run([binary, *path, "--help"], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        sys.exit(f"make_man.py: '{' '.join(['sipsite', *path, '--help'])}' exited {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def sections(text):
    """(description, [(option spec, words)], [(subcommand, words)]) of one help page."""
    lines = text.splitlines()
    description = lines[0].strip() if lines and not lines[0].startswith("Usage:") else ""
    options, subcommands, current = [], [], None
    for line in lines:
        if line in ("Options:", "Subcommands:"):
            current = options if line == "Options:" else subcommands
            continue
        if current is None or not line.startswith("  "):
            continue
        m = re.match(r"^  (\S.*?)(?:\s{2,}(\S.*))?$", line)
        if m:
            current.append((m.group(1).strip(), (m.group(2) or "").strip()))
    return description, options, subcommands


def roff(text):
    """Text safe in a roff line: backslashes and hyphens escaped, no leading dot or quote."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\\&" + text if text[:1] in (".", "'") else text


def option_items(options):
    out = []
    for spec, words in options:
        if spec.startswith("-h,--help"):
            continue
        out.append(".TP\n.B " + roff(spec) + "\n" + roff(words or "(no description)"))
    return out


def commands(binary, path, out):
    for name, _ in sections(help_text(binary, path))[2]:
        sub = [*path, name]
        description, options, children = sections(help_text(binary, sub))
        out.append('.SS "sipsite ' + roff(" ".join(sub)) + (" COMMAND" if children else "") + '"')
        out.append(roff(description))
        if children:
            out.append(".PP\nCommands: " + roff(", ".join(c for c, _ in children)) + ".")
        out.extend(option_items(options))
        commands(binary, sub, out)


def main():
    binary, template, version, output = sys.argv[1:5]
    _, top_options, _ = sections(help_text(binary, []))
    cmds = []
    commands(binary, [], cmds)
    with open(template) as f:
        page = f.read()
    page = (page.replace("@VERSION@", version)
                .replace("@OPTIONS@", "\n".join(option_items(top_options)))
                .replace("@COMMANDS@", "\n".join(cmds)))
    with open(output, "w") as f:
        f.write(page)


if __name__ == "__main__":
    main()
