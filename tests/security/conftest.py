"""The security suite runs against the real sandbox (tests/conftest.py's `sandbox_home`) and
reuses the engine tests' package builders."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sandbox"))
