"""The examples in README.md and docs/*.md run, and print what the page says they print.

How to write an example that this test runs (one convention for every page):

- A fenced ```console block is run; ```sh, ```text, ```turtle … blocks are only shown.
  Use ```sh for a recipe that needs what a test cannot have (a server at a fixed address,
  the internet) and show no output there.
- In a console block, a line starting with ``$ `` is a command (a line ending in ``\\``
  goes on on the next line); the lines after it, up to the next ``$ `` line or the end of
  the block, are what it prints: stdout and stderr together, in the order written, as a
  terminal shows them (progress bars never show: output is not a terminal).
- Each page runs in a fresh temporary folder holding copies of ``seeds/``, ``queries/`` and
  ``tests/data/``; its blocks run in page order, each command in its own ``bash -c`` with
  ``graphbuild`` and ``python`` on PATH, ``COLUMNS=120``, and no ``GRAPHBUILD_*``
  variables, so the store is ``./graphbuild-store`` unless the command says otherwise.
  (A plain ``graphbuild …`` command, with no pipe, redirection, ``&`` or ``$``, runs in
  the test's own process through Typer's runner instead, which prints the same and saves
  the start-up of a process.)
- A command must exit 0. One that must fail says so in a trailing comment: ``# exit 1``.
- Expected output is compared line by line, trailing spaces ignored. Placeholders:
  ``...`` on a line of its own matches any lines (none or more); ``<n>`` a number
  (``1,234``, ``0.75``, ``-3``); ``<any>`` any text within one line (paths, times).
- A command ending in ``&`` runs in the background until the page is done (a server). It
  must name its address as ``127.0.0.1:PORT`` (or ``localhost:PORT``); the next command
  starts once that port answers. Every such address with a 4- or 5-digit port, in any
  command of the page, is moved to a free port and shown back as written, so pages never
  collide. The lines after it are compared with what it printed once it is stopped.
- A ```python block runs as a script in the page's folder (after the blocks above it) and
  must exit 0. If the next block is a ```text block, with at most one line of prose
  between them (ending in ``:``), that block is what the script prints on stdout.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from graphbuild.cli import app

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
AT_HAND = ("seeds", "queries", "tests/data")
COMMAND_TIMEOUT = 300
_FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w-]*)")
_EXIT = re.compile(r"#\s*exit\s+(?P<status>\d+)\s*$")
_ADDRESS = re.compile(r"\b(?P<host>127\.0\.0\.1|localhost):(?P<port>\d{4,5})\b")
_NUMBER = r"-?\d[\d,]*(?:\.\d+)?"


@dataclass
class Block:
    lang: str
    lines: list[str]
    line: int  # where the block's first line sits in its page
    prose_before: list[str] = field(default_factory=list)


@dataclass
class Command:
    text: str
    expected: list[str]
    line: int

    @property
    def status(self) -> int:
        found = _EXIT.search(self.text)
        return int(found["status"]) if found else 0

    @property
    def background(self) -> bool:
        return _EXIT.sub("", self.text).rstrip().endswith("&")


def blocks(page: Path) -> list[Block]:
    found: list[Block] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    prose: list[str] = []
    index = 0
    while index < len(lines):
        fence = _FENCE.match(lines[index])
        if not fence:
            if lines[index].strip():
                prose.append(lines[index].strip())
            index += 1
            continue
        indent, body, start = len(fence["indent"]), [], index + 1
        index += 1
        while index < len(lines) and not lines[index].strip().startswith("```"):
            body.append(lines[index][indent:])
            index += 1
        found.append(Block(fence["lang"], body, start + 1, prose))
        prose = []
        index += 1
    return found


def commands(block: Block) -> list[Command]:
    found: list[Command] = []
    for offset, line in enumerate(block.lines):
        if line.startswith("$ "):
            found.append(Command(line[2:], [], block.line + offset))
        elif found and found[-1].text.endswith("\\") and not found[-1].expected:
            found[-1].text = found[-1].text[:-1] + "\n" + line
        elif found:
            found[-1].expected.append(line)
        elif line.strip():
            raise AssertionError(f"line {block.line + offset}: a console block starts with a `$ ` command")
    return found


def matches(expected: list[str], actual: str) -> bool:
    pattern = "".join(
        r"(?:[^\n]*\n)*?" if line.strip() == "..." else _line_pattern(line.rstrip()) + r"[ \t]*\n"
        for line in _trimmed(expected)
    )
    text = "".join(f"{line.rstrip()}\n" for line in _trimmed(actual.splitlines()))
    return re.fullmatch(pattern, text) is not None


def _line_pattern(line: str) -> str:
    parts = re.split(r"(<n>|<any>)", line)
    return "".join(_NUMBER if p == "<n>" else "[^\n]*" if p == "<any>" else re.escape(p) for p in parts)


def _plain_graphbuild(text: str) -> list[str] | None:
    """The arguments of a ``graphbuild …`` command that needs no shell, else None."""
    try:
        words = shlex.split(text, comments=True)
    except ValueError:
        return None
    if not words or words[0] != "graphbuild" or re.search(r"[|<>;&`]|\$\(|\$\w", _EXIT.sub("", text)):
        return None
    return words[1:]


def _trimmed(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Page:
    """One page's folder, environment, moved ports and background processes."""

    def __init__(self, page: Path, folder: Path) -> None:
        self.page, self.folder = page, folder
        for name in AT_HAND:
            shutil.copytree(ROOT / name, folder / name)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("GRAPHBUILD_", "FORCE_COLOR"))}
        self.env.update(
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{self.env.get('PATH', '')}",
            PYTHONUNBUFFERED="1",
            PYTHONIOENCODING="utf-8",
            COLUMNS="120",
            NO_COLOR="1",
        )
        self.ports: dict[str, str] = {}
        self.background: list[tuple[Command, subprocess.Popen[str], Path]] = []

    def where(self, command: Command) -> str:
        return f"{self.page.relative_to(ROOT)}:{command.line}: $ {command.text}"

    def moved(self, text: str) -> str:
        def move(found: re.Match[str]) -> str:
            port = self.ports.setdefault(found["port"], str(_free_port()))
            return f"{found['host']}:{port}"

        return _ADDRESS.sub(move, text)

    def shown(self, output: str) -> str:
        for written, used in self.ports.items():
            output = re.sub(rf"(127\.0\.0\.1|localhost):{used}\b", rf"\g<1>:{written}", output)
        return output

    def run(self, command: Command) -> None:
        text = self.moved(command.text)
        if command.background:
            self._start(command, text)
            return
        args = _plain_graphbuild(text)
        if args is not None:
            self._run_in_process(command, args)
            return
        done = subprocess.run(
            ["bash", "-c", text],
            cwd=self.folder,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
        self._check(command, done.returncode, done.stdout)

    def _run_in_process(self, command: Command, args: list[str]) -> None:
        # A second or more of imports saved per command; Click's runner interleaves stdout
        # and stderr as a terminal would.
        overrides: dict[str, str | None] = {k: None for k in os.environ if k.startswith(("GRAPHBUILD_", "FORCE_COLOR"))}
        overrides.update({k: self.env[k] for k in ("COLUMNS", "NO_COLOR", "PYTHONIOENCODING")})
        before = Path.cwd()
        os.chdir(self.folder)
        try:
            result = CliRunner().invoke(app, args, env=overrides)
        finally:
            os.chdir(before)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        self._check(command, result.exit_code, result.output)

    def _check(self, command: Command, status: int, output: str) -> None:
        shown = self.shown(output)
        if status != command.status:
            pytest.fail(f"{self.where(command)}\nexit status {status}, expected {command.status}:\n{shown}", pytrace=False)
        _compare(self.where(command), command.expected, shown)

    def _start(self, command: Command, text: str) -> None:
        log = self.folder / f".background-{len(self.background)}.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                ["bash", "-c", f"exec {text.rstrip().removesuffix('&')}"],
                cwd=self.folder,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
        self.background.append((command, process, log))
        address = _ADDRESS.search(text)
        assert address, f"{self.where(command)}\na background command names its address as 127.0.0.1:PORT"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"{self.where(command)}\nstopped at once:\n{self.shown(log.read_text())}")
            try:
                socket.create_connection(("127.0.0.1", int(address["port"])), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"{self.where(command)}\nnever answered on {address[0]}")

    def stop(self, *, check: bool) -> None:
        for command, process, log in self.background:
            # Ctrl-C as a user would press it; then firmer, so no server outlives its page.
            for sig, wait in ((signal.SIGINT, 10), (signal.SIGTERM, 5), (signal.SIGKILL, 10)):
                if process.poll() is not None:
                    break
                os.killpg(process.pid, sig)
                try:
                    process.wait(timeout=wait)
                except subprocess.TimeoutExpired:
                    continue
            if check:
                _compare(self.where(command), command.expected, self.shown(log.read_text()))
        self.background = []

    def run_python(self, block: Block, expected: Block | None) -> None:
        done = subprocess.run(
            [sys.executable, "-"],
            input="\n".join(block.lines) + "\n",
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
        where = f"{self.page.relative_to(ROOT)}:{block.line}: python block"
        if done.returncode != 0:
            pytest.fail(f"{where}\nexit status {done.returncode}:\n{done.stdout}{done.stderr}", pytrace=False)
        if expected is not None:
            _compare(where, expected.lines, done.stdout)


def _compare(where: str, expected: list[str], printed: str) -> None:
    if not matches(expected, printed):
        pytest.fail(f"{where}\nexpected:\n" + "\n".join(expected) + f"\nprinted:\n{printed}", pytrace=False)


def _output_block(following: Block | None) -> Block | None:
    if following is None or following.lang != "text" or len(following.prose_before) > 1:
        return None
    if following.prose_before and not following.prose_before[0].endswith(":"):
        return None
    return following


def runnable(page: Path) -> bool:
    return any(block.lang in ("console", "python") for block in blocks(page))


@pytest.mark.parametrize("page", [p for p in PAGES if runnable(p)], ids=lambda p: str(p.relative_to(ROOT)))
def test_examples_print_what_the_page_shows(page: Path, tmp_path: Path) -> None:
    runner = Page(page, tmp_path)
    found = blocks(page)
    ok = False
    try:
        for index, block in enumerate(found):
            if block.lang == "console":
                for command in commands(block):
                    runner.run(command)
            elif block.lang == "python":
                runner.run_python(block, _output_block(found[index + 1] if index + 1 < len(found) else None))
        ok = True
    finally:
        runner.stop(check=ok)


def test_the_runner_reads_the_convention() -> None:
    """The convention above, on a page of its own: placeholders, exit statuses, continuations."""
    assert matches(["8 documents loaded, <n> replaced", "...", "done in <any>"], "8 documents loaded, 0 replaced\na\nb\ndone in 1.2 s\n")
    assert matches(["...", "last"], "last\n")
    assert not matches(["8 documents loaded"], "8 documents loaded\nmore\n")
    assert not matches(["<n> rows"], "many rows\n")
    assert matches(["x  "], "x\n\n")
    parsed = commands(Block("console", ["$ graphbuild a \\", "  --b  # exit 1", "out", "$ c &", "$ d"], 1))
    assert [(c.text, c.expected, c.status, c.background) for c in parsed] == [
        ("graphbuild a \n  --b  # exit 1", ["out"], 1, False),
        ("c &", [], 0, True),
        ("d", [], 0, False),
    ]


def _help_texts() -> Iterator[tuple[str, str | None]]:
    group = typer.main.get_command(app)
    assert isinstance(group, typer.main.TyperGroup)
    yield "graphbuild", group.help
    for name, command in group.commands.items():
        yield f"graphbuild {name}", command.help
        for param in command.params:
            if param.name != "help":
                yield f"graphbuild {name} {param.name}", getattr(param, "help", None)
    for param in group.params:
        if param.name != "help":
            yield f"graphbuild {param.name}", getattr(param, "help", None)


def test_every_command_and_option_has_help_and_every_command_a_section_in_cli_md() -> None:
    group = typer.main.get_command(app)
    assert isinstance(group, typer.main.TyperGroup)
    missing = [where for where, text in _help_texts() if not (text and text.strip())]
    assert missing == []
    page = (DOCS / "cli.md").read_text(encoding="utf-8")
    sections = dict(re.findall(r"^## graphbuild (\S+)\s*\n(.*?)(?=^## |\Z)", page, re.M | re.S))
    assert sorted(sections) == sorted(group.commands)
    undocumented = [
        f"graphbuild {name} {option}"
        for name, command in group.commands.items()
        for param in command.params
        for option in param.opts
        if option.startswith("--") and option != "--help" and f"`{option}" not in sections[name]
    ]
    globals_section = page.split("## Global options", 1)[-1].split("\n## ", 1)[0]
    undocumented += [o for p in group.params for o in p.opts if o != "--help" and f"`{o}" not in globals_section]
    assert undocumented == []


def test_help_texts_carry_no_measurements() -> None:
    """Figures live in docs/performance.md, measured and dated; a help text cannot keep up."""
    measurement = re.compile(r"\d[\d,.]*\s*(?:x|×|%|ms|s|min|MiB|MB|GiB|GB|quads/s|documents/s)\b")
    found = [(where, text) for where, text in _help_texts() if text and measurement.search(text)]
    assert found == []


def test_readme_links_resolve_and_the_nav_lists_every_page() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = [t.split("#")[0] for t in re.findall(r"\]\((?!https?:|#)([^)\s]+)\)", readme)]
    assert targets and [t for t in targets if not (ROOT / t).exists()] == []
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert [p.name for p in sorted(DOCS.glob("*.md")) if p.name not in nav] == []


def test_the_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for step in (".venv/bin/pip install --quiet -e '.[test]'", ".venv/bin/python -m pytest"):
        assert step in ci
        assert step.replace("--quiet", "-q") in readme
