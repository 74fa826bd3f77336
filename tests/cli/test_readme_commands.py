"""The README's command lines use flags that exist: each `ringrift ...` line of its code blocks
(with `\\` continuations) names subcommands the parser has, and every `--flag` on it is an option
of that subcommand. A flag renamed or removed without the README following fails here."""

from __future__ import annotations

import argparse
import itertools
import re
from collections.abc import Iterator
from pathlib import Path

from ringrift.cli.main import build_parser

README = Path(__file__).resolve().parents[2] / "README.md"
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices
    return {}


def readme_command_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, command without comment) of each `ringrift` line in a code block."""
    lines, in_code, i = text.splitlines(), False, 0
    while i < len(lines):
        stripped = lines[i].strip()
        start = i + 1
        if stripped.startswith("```"):
            in_code = not in_code
        elif in_code and stripped.startswith("ringrift "):
            while stripped.endswith("\\") and i + 1 < len(lines):
                i += 1
                stripped = stripped[:-1] + " " + lines[i].strip()
            yield start, stripped.split(" #")[0]
        i += 1


def command_paths(words: list[str], parser: argparse.ArgumentParser
                  ) -> Iterator[tuple[list[str], argparse.ArgumentParser]]:
    """The subcommand paths the words name; `a|b` names each alternative."""
    subs = _subcommands(parser)
    if words and subs:
        names = words[0].split("|")
        if all(name in subs for name in names):
            for name in names:
                for path, sub in command_paths(words[1:], subs[name]):
                    yield [name, *path], sub
            return
    yield [], parser


def unknown_flags(text: str) -> tuple[int, list[str]]:
    root = build_parser()
    checked, unknown = 0, []
    for lineno, command in readme_command_lines(text):
        for path, parser in command_paths(command.split()[1:], root):
            known = set(itertools.chain.from_iterable(a.option_strings for a in parser._actions))
            for flag in FLAG.findall(command):
                checked += 1
                if flag not in known:
                    unknown.append(f"README.md:{lineno}: ringrift {' '.join(path)}: {flag}")
    return checked, unknown


def test_every_flag_the_readme_shows_exists():
    checked, unknown = unknown_flags(README.read_text())
    assert checked > 300  # the README's command lines were found
    assert unknown == []


def test_a_stale_flag_is_caught():
    text = "```bash\nringrift train --board-type square8 \\\n    --no-such-flag 3\n```\n"
    checked, unknown = unknown_flags(text)
    assert checked == 2 and unknown == ["README.md:2: ringrift train: --no-such-flag"]
    alternatives = "```\nringrift gauntlet|match --workers 2 --gauntlet x\n```\n"
    assert unknown_flags(alternatives)[1] == ["README.md:2: ringrift gauntlet: --gauntlet",
                                              "README.md:2: ringrift match: --gauntlet"]
