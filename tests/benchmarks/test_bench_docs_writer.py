"""benchmarks/_docs.py: sections and subsections of docs/benchmarks.md are replaced in place."""

from __future__ import annotations

import pytest
from _docs import write_section, write_subsection

DOC = "# B\n\n## A\n\nintro\n\n### one\n\n1\n\n### two\n\n2\n\n## C\n\nc\n"


def test_subsection_replaced_in_place_and_others_kept(tmp_path):
    path = tmp_path / "b.md"
    path.write_text(DOC)
    write_subsection("## A", "### one\n\nnew", path=path)
    assert path.read_text() == DOC.replace("### one\n\n1", "### one\n\nnew")
    write_subsection("## A", "### three\n\n3", path=path)
    assert path.read_text().index("### three") < path.read_text().index("## C")


def test_section_replaced_appended_or_placed_after(tmp_path):
    path = tmp_path / "b.md"
    path.write_text(DOC)
    write_section("## C", "c2", path=path)
    assert path.read_text().endswith("## C\n\nc2\n")
    write_section("## N", "n", path=path, after="## A")
    text = path.read_text()
    assert text.index("## A") < text.index("## N") < text.index("## C")
    write_section("## A", "a", path=path)  # replacing keeps the following sections
    assert "### one" not in path.read_text() and "## N\n\nn\n" in path.read_text()


def test_writing_the_same_text_is_idempotent(tmp_path):
    path = tmp_path / "b.md"
    path.write_text(DOC)
    write_subsection("## A", "### two\n\n2", path=path)
    write_section("## C", "c", path=path)
    assert path.read_text() == DOC


def test_subsection_needs_a_title():
    with pytest.raises(ValueError, match="### "):
        write_subsection("## A", "no title")
