"""How long `graphbuild report` takes beside the ingest of the same store.

Generates a SciGraph-shaped corpus (bench/generate.py), ingests it --repeat times, then
builds the report --repeat times, fresh and after `graphbuild optimize`; prints each
median, its ratio to the ingest's median (wall and CPU), peak RSS, the site's files and
size, and a Markdown table.

    python bench/report_speed.py --documents 10000 --documents 100000 [--repeat 3] [--also validate]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from beside_ingest import main

if __name__ == "__main__":
    main(__doc__ or "", ["report"])
