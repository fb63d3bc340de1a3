import sys
from pathlib import Path

# The generators of the reference pages, as docs/conf.py loads them.
DOCS = Path(__file__).resolve().parents[2] / "docs"
sys.path.insert(0, str(DOCS / "_ext"))
