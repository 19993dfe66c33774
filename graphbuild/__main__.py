"""``graphbuild`` and ``python -m graphbuild``: the command line."""

from __future__ import annotations


def main() -> None:
    """Run the command line; a Ctrl-C while it is still loading ends it quietly (130)."""
    try:
        from graphbuild.cli import app
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    app(prog_name="graphbuild")


if __name__ == "__main__":
    main()
