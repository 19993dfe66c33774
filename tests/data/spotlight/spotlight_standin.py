"""A stand-in for DBpedia Spotlight: a real HTTP server on 127.0.0.1 that answers
``POST /rest/annotate`` as Spotlight does, from recorded answers.

Spotlight itself cannot run here (its models are downloaded when it starts). This server
knows the recorded answers in ``good/`` beside this file (or those it is given). Asked
about a text that is a recorded text, or a part of one (white space around it aside), it
answers with the recorded resources that lie within that part, their ``@offset`` counted in
UTF-16 code units from the start of the text it was sent, as Spotlight (Java) counts them,
keeping those whose ``@similarityScore`` and ``@support`` reach the ``confidence`` and
``support`` asked for. A text it has no recording of gets an answer with no resources, as
Spotlight gives for a text with nothing to link. It answers JSON only to ``Accept:
application/json`` (HTML otherwise, as Spotlight does), 413 for a text longer than
``max_chars``, 500 for a text containing one of ``broken``, and 404 off its path; a text
containing a key of ``slow`` is answered that many seconds late.

It lives among the test data, not beside the tests, so that the docs' examples, which run
in a folder holding a copy of ``tests/data``, can start it too. As a script it serves
until interrupted:

    python tests/data/spotlight/spotlight_standin.py --bind 127.0.0.1:2222 &
    graphbuild annotate tests/data/annotate --spotlight http://localhost:2222/rest
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
import time
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

RECORDED = Path(__file__).resolve().parent / "good"
# Recordings with texts of their own (the other edited ones repeat "The University of Oklahoma").
DEFAULT_RECORDINGS = ("berlin", "oklahoma", "nozomi", "astral-offsets-edited")
_JAVA_TRACE = b"java.lang.NullPointerException\n\tat org.dbpedia.spotlight.web.rest.SpotlightInterface.getJSON(SpotlightInterface.java:193)\n"


def recorded(*names: str) -> list[dict[str, Any]]:
    """Recorded answers by file stem (the default set when none is named)."""
    return [json.loads((RECORDED / f"{name}.json").read_text(encoding="utf-8")) for name in names or DEFAULT_RECORDINGS]


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _resources(answer: dict[str, Any]) -> list[dict[str, Any]]:
    found = answer.get("Resources") or []
    return [found] if isinstance(found, dict) else list(found)


def _code_point(text: str, utf16_offset: int) -> int:
    units = 0
    for index, char in enumerate(text):
        if units >= utf16_offset:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
    return len(text)


def joined(answers: Sequence[dict[str, Any]], separator: str) -> dict[str, Any]:
    """One recorded answer for the texts of ``answers`` joined by ``separator``, its
    resources moved along (a long text, for splitting, made of real answers)."""
    text = separator.join(answer["@text"] for answer in answers)
    resources = []
    start = 0
    for answer in answers:
        for resource in _resources(answer):
            resources.append({**resource, "@offset": str(int(resource["@offset"]) + _utf16(text[:start]))})
        start += len(answer["@text"]) + len(separator)
    return {**answers[0], "@text": text, "Resources": resources}


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hangs up (a test's deadline, Ctrl-C) is no news here


@dataclass(frozen=True)
class Asked:
    """A request the stand-in received."""

    at: float
    path: str
    form: dict[str, str]
    accept: str
    answered: float = 0.0

    @property
    def text(self) -> str:
        return self.form.get("text", "")


class StandInSpotlight:
    """Serves ``recordings`` at ``http://127.0.0.1:PORT/rest`` until ``stop()``; ``requests`` lists what it was asked."""

    def __init__(
        self,
        recordings: Iterable[dict[str, Any]] | None = None,
        *,
        port: int = 0,
        max_chars: int | None = None,
        broken: Sequence[str] = (),
        slow: Mapping[str, float] | None = None,
    ) -> None:
        self.recordings = list(recordings) if recordings is not None else recorded()
        self.max_chars = max_chars
        self.broken = tuple(broken)
        self.slow = dict(slow or {})
        self.requests: list[Asked] = []
        self._lock = threading.Lock()
        self._httpd = _QuietServer(("127.0.0.1", port), self._handler())
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/rest"
        self.annotate_url = self.url + "/annotate"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name="standin-spotlight", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def answer(self, text: str, confidence: float, support: int) -> dict[str, Any]:
        """What Spotlight would answer for ``text``, from the recordings."""
        answer: dict[str, Any] = {
            "@text": text,
            "@confidence": str(confidence),
            "@support": str(support),
            "@types": "",
            "@sparql": "",
            "@policy": "whitelist",
        }
        core = text.strip()
        lead = len(text) - len(text.lstrip())
        for recording in sorted(self.recordings, key=lambda r: r["@text"] != core):
            whole = recording["@text"]
            at = whole.find(core) if core else -1
            if at < 0:
                continue
            found = []
            for resource in _resources(recording):
                begin = _code_point(whole, int(resource["@offset"]))
                end = begin + len(resource["@surfaceForm"])
                kept = float(resource.get("@similarityScore", 1)) >= confidence and int(resource.get("@support", 0)) >= support
                if at <= begin and end <= at + len(core) and kept:
                    found.append({**resource, "@offset": str(_utf16(text[: lead + begin - at]))})
            if found:
                answer["Resources"] = found
            break
        return answer

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: without this, the body waits for the
            # client's delayed ACK (40 ms a request), which no real server makes anyone wait.
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
                accept = self.headers.get("Accept", "")
                started = time.monotonic()
                text = form.get("text")
                time.sleep(max((delay for marker, delay in standin.slow.items() if marker in (text or "")), default=0.0))
                if urllib.parse.urlsplit(self.path).path.rstrip("/") != "/rest/annotate":
                    self._send(404, "text/html", b"<html><body><h2>HTTP ERROR 404</h2><p>Not Found</p></body></html>")
                elif text is None:
                    self._send(400, "text/plain", b"No text was specified in the &text parameter.")
                elif standin.max_chars is not None and len(text) > standin.max_chars:
                    self._send(413, "text/plain", b"Form too large")
                elif any(marker in text for marker in standin.broken):
                    self._send(500, "text/plain", _JAVA_TRACE)
                elif "application/json" not in accept:
                    self._send(200, "text/html", b"<html><body><div>" + text.encode("utf-8") + b"</div></body></html>")
                else:
                    answer = standin.answer(text, float(form.get("confidence", "0.5")), int(form.get("support", "0")))
                    self._send(200, "application/json", json.dumps(answer, ensure_ascii=False).encode("utf-8"))
                with standin._lock:
                    standin.requests.append(Asked(started, self.path, form, accept, time.monotonic()))

            def _send(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", f"{content_type}; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


def main() -> None:
    """Serve at ``--bind HOST:PORT`` until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(description="A stand-in for DBpedia Spotlight's /annotate, from recorded answers.")
    parser.add_argument("--bind", default="127.0.0.1:2222", help="HOST:PORT to listen on (the host must be 127.0.0.1)")
    host, _, port = parser.parse_args().bind.rpartition(":")
    if host != "127.0.0.1" or not port.isdigit():
        parser.error("--bind takes 127.0.0.1:PORT")
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    server = StandInSpotlight(port=int(port))
    print(f"Spotlight stand-in at {server.url}, answering from {len(server.recordings)} recorded answers", flush=True)
    while not stopped.wait(0.2):
        pass
    server.stop()


if __name__ == "__main__":
    main()
