"""The fleet's package is imported from the source tree (``fleet/``)."""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
