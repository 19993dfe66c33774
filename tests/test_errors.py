"""The library's errors speak of the library; the command line maps settings to options."""

from __future__ import annotations

import ast
import pickle
import re
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from graphbuild.cli import app
from graphbuild.cli.app import OPTION_OF_SETTING, error_line
from graphbuild.enrichment.query import parse_languages
from graphbuild.errors import EnrichError, GraphbuildError, InputError, Interrupted, ParameterError
from graphbuild.query.canned import bind, load_query

PACKAGE = Path(__file__).resolve().parent.parent / "graphbuild"
# An option as a command line spells it: "--lang", not a "--" inside a word or a SPARQL comment.
_OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]+")


def _library_error_calls() -> list[tuple[str, ast.Call]]:
    """Every call of an error class (``…Error(…)``, ``_Refused(…)``) outside the CLI."""
    calls = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "cli" in path.relative_to(PACKAGE).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                if name.endswith(("Error", "TooLarge", "Refused")):
                    calls.append((f"{path.relative_to(PACKAGE)}:{node.lineno}", node))
    return calls


def _strings(node: ast.AST) -> list[str]:
    return [part.value for part in ast.walk(node) if isinstance(part, ast.Constant) and isinstance(part.value, str)]


def test_no_library_error_names_a_command_line_option() -> None:
    calls = _library_error_calls()
    assert len(calls) > 50  # the scan sees the library's errors
    naming = [
        f"{where}: {text!r}"
        for where, call in calls
        for argument in call.args
        for text in _strings(argument)
        if _OPTION.search(text)
    ]
    assert naming == []


def test_every_setting_the_library_names_is_an_option_of_the_command_line() -> None:
    settings = set()
    for _, call in _library_error_calls():
        for keyword in call.keywords:
            if keyword.arg == "setting":
                settings.update(text.split(" ")[0] for text in _strings(keyword.value))
    assert settings == {*OPTION_OF_SETTING, "parameter"}
    group = typer.main.get_command(app)
    assert isinstance(group, typer.main.TyperGroup)
    options = {option for command in group.commands.values() for param in command.params for option in param.opts}
    assert set(OPTION_OF_SETTING.values()) | {"--param"} <= options


def test_the_library_names_the_parameter_and_the_command_line_its_option() -> None:
    with pytest.raises(EnrichError) as info:
        parse_languages("english")
    detail = "'english' is not a language tag (expected e.g. en, de, pt-br)"
    assert (str(info.value), info.value.setting, info.value.detail) == (f"languages: {detail}", "languages", detail)
    assert error_line(info.value) == f"--lang: {detail}"
    with pytest.raises(ParameterError) as bad:
        bind(load_query("documents-mentioning"), {"entity": "not an iri"})
    assert str(bad.value).startswith("parameter entity: 'not an iri' is not a valid IRI")
    assert error_line(bad.value).startswith("--param entity: 'not an iri' is not a valid IRI")
    assert error_line(GraphbuildError("no store at x")) == "no store at x"


def test_the_command_line_prints_the_option(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["enrich", "--store", str(tmp_path), "--what", "pictures"])
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: --what: 'pictures' is not one of labels, types, abstracts, categories, redirects, sameas\n",
    )


@pytest.mark.parametrize(
    "error",
    [
        EnrichError("'x' is not a valid URL", setting="endpoint"),
        GraphbuildError("the store is in use"),
        InputError("a.jsonl", 3, "not JSON"),
        Interrupted("775 documents written"),
    ],
)
def test_errors_cross_processes_whole(error: GraphbuildError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), copy.detail, copy.setting) == (type(error), str(error), error.detail, error.setting)
