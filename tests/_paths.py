"""Where tests find the shared fixtures: ../shared/fixtures beside the clone (never copied in)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO.parent / "shared" / "fixtures"
