"""The Spotlight client's parts: texts cut at sentence ends, answers merged, the rate limit, settings."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graphbuild.errors import InputError
from graphbuild.readers.spotlight import read_response
from graphbuild.retry import RetryPolicy
from graphbuild.spotlight.client import REMOTE_RATE, RateLimit, SpotlightSettings
from graphbuild.spotlight.split import merged, parts, utf16_length

TEXT = "Berlin is a city. Paris is one too! Is Rome? Yes… «Quoted.» End"


def test_parts_end_after_sentences_within_the_limit() -> None:
    assert parts(TEXT, 40) == [(0, "Berlin is a city. Paris is one too! "), (36, "Is Rome? Yes… «Quoted.» End")]
    assert parts(TEXT, len(TEXT)) == [(0, TEXT)]


def test_parts_fall_back_to_white_space_then_to_the_limit() -> None:
    assert parts("one two three four", 9) == [(0, "one two "), (8, "three "), (14, "four")]
    assert parts("abcdefghij", 4) == [(0, "abcd"), (4, "efgh"), (8, "ij")]


def test_japanese_sentences_end_without_a_space() -> None:
    text = "新幹線のぞみで来た。人工知能学会全国大会に行く。"
    assert parts(text, 14) == [(0, "新幹線のぞみで来た。"), (10, "人工知能学会全国大会に行く。")]


@given(st.text(alphabet=st.sampled_from("ab .!?🎓\n"), max_size=300), st.integers(min_value=1, max_value=50))
def test_parts_cover_the_text_in_order_within_the_limit(text: str, limit: int) -> None:
    found = parts(text, limit)
    assert "".join(part for _, part in found) == text
    assert all(len(part) <= limit for _, part in found)
    assert [start for start, _ in found] == [sum(len(p) for _, p in found[:i]) for i in range(len(found))]


def _answer(text: str, *resources: tuple[str, int]) -> dict[str, object]:
    return {
        "@text": text,
        "@confidence": "0.5",
        "Resources": [
            {"@URI": f"http://dbpedia.org/resource/{surface}", "@surfaceForm": surface, "@offset": str(offset)}
            for surface, offset in resources
        ],
    }


def test_merged_answers_read_as_one_answer_for_the_whole_text() -> None:
    text = "🎓 Berlin. 🎓🎓 Paris and Rome."
    first, second = text[:10], text[10:]
    answers = [(0, _answer(first, ("Berlin", 3))), (10, _answer(second, ("Paris", 5), ("Rome", 15)))]
    whole = merged(text, answers)
    assert whole["@text"] == text and whole["@confidence"] == "0.5"
    # The second part starts after 10 code points, 11 UTF-16 units; its own astral pair adds 4 more.
    assert [r["@offset"] for r in whole["Resources"]] == ["3", "16", "26"]
    doc = read_response(whole, "d", source="s", line=None)
    assert not isinstance(doc, InputError)
    assert [(link.begin, link.end, link.surface) for link in doc.links] == [(2, 8, "Berlin"), (13, 18, "Paris"), (23, 27, "Rome")]
    assert utf16_length(text) == len(text) + 3


def test_a_single_answer_comes_back_as_it_is_and_odd_offsets_are_left_for_the_reader() -> None:
    one = _answer("Berlin", ("Berlin", 0))
    assert merged("Berlin", [(0, one)]) is one
    odd = {"@text": "x", "Resources": {"@URI": "http://dbpedia.org/resource/X", "@surfaceForm": "x", "@offset": "one"}}
    assert merged("ab x", [(0, {"@text": "ab "}), (3, odd)])["Resources"] == [odd["Resources"]]
    assert "Resources" not in merged("ab cd", [(0, {"@text": "ab "}), (3, {"@text": "cd"})])


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def test_the_rate_limit_spaces_requests_and_a_hold_stops_them_all() -> None:
    clock = _Clock()
    limit = RateLimit(4.0, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        limit.wait()
    assert clock.slept == [0.25, 0.25]
    limit.hold(2.0)
    limit.wait()
    assert clock.slept == [0.25, 0.25, 2.0]
    free = RateLimit(None, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        free.wait()
    assert clock.slept == [0.25, 0.25, 2.0]


def test_requests_are_limited_by_default_only_to_other_machines() -> None:
    assert SpotlightSettings("http://localhost:2222/rest").requests_per_second() is None
    assert SpotlightSettings("http://127.0.0.1:2222/rest").requests_per_second() is None
    assert SpotlightSettings("https://api.dbpedia-spotlight.org/en").requests_per_second() == REMOTE_RATE
    assert SpotlightSettings("https://api.dbpedia-spotlight.org/en", rate=0).requests_per_second() is None
    assert SpotlightSettings("http://localhost:2222/rest", rate=2).requests_per_second() == 2


def test_the_key_changes_with_the_text_and_the_settings_that_make_links_only() -> None:
    base = SpotlightSettings("http://localhost:2222/rest")
    key = base.key("Berlin")
    assert key.startswith("sha256:") and key == SpotlightSettings("http://localhost:2222/rest/").key("Berlin")
    others = [
        base.key("Paris"),
        replace(base, url="http://localhost:2223/rest").key("Berlin"),
        replace(base, confidence=0.6).key("Berlin"),
        replace(base, support=20).key("Berlin"),
        replace(base, language="de", url="http://localhost:2222/rest").key("Berlin"),
    ]
    assert len({key, *others}) == 6
    how = [replace(base, rate=1.0), replace(base, max_chars=500), replace(base, policy=RetryPolicy(attempts=1))]
    assert {settings.key("Berlin") for settings in how} == {key}


@pytest.mark.parametrize(
    "url", ["http://localhost:2222/rest", "https://api.dbpedia-spotlight.org/en/", "http://[::1]:2222/rest"]
)
def test_good_urls(url: str) -> None:
    assert SpotlightSettings(url).problem() is None
