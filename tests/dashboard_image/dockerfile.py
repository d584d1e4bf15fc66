"""Just enough of the Dockerfile and .dockerignore formats to replay the dashboard image's build.

Instructions are read as Docker reads them (``\\`` continues a line, ``#`` starts a comment);
.dockerignore patterns as Docker matches them for the simple patterns used here (``*``/``?``
within a path element, ``**`` across elements, ``!`` re-includes, the last match wins, and a
pattern that matches a directory matches everything under it).
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path, PurePosixPath


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


def instructions(text: str) -> list[Instruction]:
    found: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        keyword, _, arguments = whole.partition(" ")
        found.append(Instruction(keyword.upper(), arguments.strip()))
    return found


def only(found: list[Instruction], keyword: str) -> Instruction:
    matching = [i for i in found if i.keyword == keyword]
    assert len(matching) == 1, f"expected one {keyword}, found {len(matching)}"
    return matching[0]


def command(arguments: str) -> list[str]:
    """A CMD/ENTRYPOINT/HEALTHCHECK command: exec form (JSON) as is, shell form under sh -c."""
    if arguments.startswith("["):
        return [str(part) for part in json.loads(arguments)]
    return ["/bin/sh", "-c", arguments]


def environment(arguments: str) -> dict[str, str]:
    """``ENV K=V K2="V 2"``."""
    pairs = {}
    for token in shlex.split(arguments):
        name, equals, value = token.partition("=")
        assert equals, f"ENV {token!r}: only the K=V form is replayed"
        pairs[name] = value
    return pairs


def healthcheck(arguments: str) -> list[str]:
    """The command of ``HEALTHCHECK [--option=value…] CMD …``."""
    match = re.match(r"^((?:--[a-z-]+=\S+\s+)*)CMD\s+(.*)$", arguments)
    assert match, f"HEALTHCHECK {arguments!r}: expected options then CMD"
    return command(match.group(2))


def ignore_patterns(text: str) -> list[tuple[bool, str]]:
    """(re-include?, pattern) in file order."""
    patterns = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = str(PurePosixPath(line.removeprefix("!").strip().strip("/")))
        patterns.append((negated, pattern))
    return patterns


def _regex(pattern: str) -> re.Pattern[str]:
    out = ""
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out, index = out + "(?:.*/)?", index + 3
        elif pattern.startswith("**", index):
            out, index = out + ".*", index + 2
        elif pattern[index] == "*":
            out, index = out + "[^/]*", index + 1
        elif pattern[index] == "?":
            out, index = out + "[^/]", index + 1
        else:
            out, index = out + re.escape(pattern[index]), index + 1
    return re.compile(f"^{out}$")


def _matches(pattern: str, path: str) -> bool:
    """Whether ``pattern`` matches ``path`` or one of the directories it is in."""
    regex = _regex(pattern)
    parents = [str(parent) for parent in PurePosixPath(path).parents][:-1]  # without "."
    return any(regex.match(candidate) for candidate in [path, *parents])


def ignored(patterns: list[tuple[bool, str]], path: str) -> bool:
    result = False
    for negated, pattern in patterns:
        if _matches(pattern, path):
            result = not negated
    return result


def context_files(root: Path, source: str, patterns: list[tuple[bool, str]]) -> list[Path]:
    """The files of ``source`` (a file or directory under ``root``) that reach the build."""
    base = root / source
    files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
    return [p for p in files if not ignored(patterns, p.relative_to(root).as_posix())]
