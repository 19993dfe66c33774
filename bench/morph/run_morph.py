"""Run Morph-KGC on the benchmark tables with the mapping beside this file.

    MORPH_PYTHON bench/morph/run_morph.py TABLES_DIR OUT.nq

Morph-KGC lives in its own virtual environment (its pins differ from graphbuild's):
``python3 -m venv /tmp/mk && /tmp/mk/bin/pip install morph-kgc``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> None:
    tables, out = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    mapping = Path(__file__).with_name("mapping.yml").read_text().replace("TABLES", str(tables))
    with tempfile.TemporaryDirectory() as work:
        mapping_path = Path(work) / "mapping.yml"
        mapping_path.write_text(mapping)
        config_path = Path(work) / "config.ini"
        config_path.write_text(
            "[CONFIGURATION]\n"
            f"output_file={out}\n"
            "output_format=N-QUADS\n"
            "number_of_processes=2\n"
            "[DataSource1]\n"
            f"mappings={mapping_path}\n"
        )
        subprocess.run([sys.executable, "-m", "morph_kgc", str(config_path)], check=True)


if __name__ == "__main__":
    main()
