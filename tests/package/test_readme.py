"""The README's Python snippets run as written, and every page it links to exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize("index", range(len(python_blocks(README))))
def test_readme_python_snippet_runs_as_written(index, capsys):
    exec(compile(python_blocks(README)[index], f"README.md python block {index}", "exec"), {})
    printed = capsys.readouterr().out
    # every commented "# value" that follows a print on the same block must be what it printed
    for expected in re.findall(r"print\(.*?\)\s+# ([-\d.]+)", python_blocks(README)[index]):
        assert expected in printed


def test_readme_links_point_to_files_in_the_repository():
    missing = [link for link in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README)
               if not link.startswith("http") and not (ROOT / link).exists()]
    assert not missing, f"README links to missing files: {missing}"


def test_readme_reads_in_five_minutes():
    assert len(README.splitlines()) <= 200
