import sys
from pathlib import Path

# The generators of the reference pages, as docs/conf.py loads them.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "docs" / "_ext"))
