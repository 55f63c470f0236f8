"""The citation metadata and the licence agree with the package's own metadata."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _cff_field(name: str) -> str:
    match = re.search(rf"^{name}:\s*(.+)$", (ROOT / "CITATION.cff").read_text(), flags=re.M)
    assert match, f"CITATION.cff has no top-level {name!r}"
    return match.group(1).strip().strip('"')


def test_citation_names_the_released_version_and_licence():
    import identlam

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert _cff_field("version") == project["version"] == identlam.__version__
    assert _cff_field("license") == project["license"]


def test_licence_file_is_the_licence_the_package_declares():
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"] == "Apache-2.0"
