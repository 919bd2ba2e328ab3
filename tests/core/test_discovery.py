"""Discovery: patterns, recursion, lock and hidden files, de-duplication, the output folder, rel paths."""

from __future__ import annotations

from pathlib import Path

from xlbatch.discovery import HIDDEN_REASON, LOCK_FILE_REASON, discover


def touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_folders_are_searched_recursively_for_workbook_patterns_case_insensitively(tmp_path: Path) -> None:
    for name in [
        "a.xlsx",
        "B.XLSX",
        "c.xlsm",
        "d.xls",
        "e.xlsb",
        "f.ods",
        "g.csv",
        "h.xltx",
        "i.xltm",
        "sub/deeper/j.Xlsx",
        "notes.txt",
        "image.png",
        "k.xlsx.bak",
    ]:
        touch(tmp_path / "in" / name)
    found = discover([tmp_path / "in"])
    names = [f.path.name for f in found.files]
    assert names == ["a.xlsx", "B.XLSX", "c.xlsm", "d.xls", "e.xlsb", "f.ods", "g.csv", "h.xltx", "i.xltm", "j.Xlsx"]
    assert found.files[-1].rel == "sub/deeper/j.Xlsx"


def test_lock_and_hidden_files_are_listed_as_skipped_with_the_reason(tmp_path: Path) -> None:
    touch(tmp_path / "in" / "~$budget.xlsx")
    touch(tmp_path / "in" / ".hidden.xlsx")
    touch(tmp_path / "in" / ".git" / "inside.xlsx")  # hidden folders are not entered
    touch(tmp_path / "in" / "budget.xlsx")
    found = {f.path.name: f for f in discover([tmp_path / "in"]).files}
    assert found["~$budget.xlsx"].skip_reason == LOCK_FILE_REASON
    assert found[".hidden.xlsx"].skip_reason == HIDDEN_REASON
    assert found["budget.xlsx"].skip_reason is None
    assert "inside.xlsx" not in found


def test_the_same_file_reached_twice_is_kept_once(tmp_path: Path) -> None:
    a = touch(tmp_path / "in" / "a.xlsx")
    found = discover([tmp_path / "in", a, tmp_path / "in" / ".." / "in" / "a.xlsx"])
    assert [f.path for f in found.files] == [a.resolve()]


def test_files_inside_the_output_folder_are_never_picked_up(tmp_path: Path) -> None:
    touch(tmp_path / "in" / "a.xlsx")
    touch(tmp_path / "in" / "xlbatch-output" / "summary.xlsx")
    found = discover([tmp_path / "in"], out_dir=tmp_path / "in" / "xlbatch-output")
    assert [f.path.name for f in found.files] == ["a.xlsx"]


def test_include_and_exclude_globs(tmp_path: Path) -> None:
    for name in ["sales-jan.xlsx", "sales-feb.xlsx", "costs.xlsx", "data.txt", "archive/sales-old.xlsx"]:
        touch(tmp_path / "in" / name)
    assert [f.path.name for f in discover([tmp_path / "in"], include=["sales-*"]).files] == [
        "sales-old.xlsx",
        "sales-feb.xlsx",
        "sales-jan.xlsx",
    ]
    assert [f.path.name for f in discover([tmp_path / "in"], include=["*.TXT"]).files] == ["data.txt"]
    names = [f.path.name for f in discover([tmp_path / "in"], exclude=["archive/*", "costs*"]).files]
    assert names == ["sales-feb.xlsx", "sales-jan.xlsx"]


def test_a_missing_path_is_reported_not_raised(tmp_path: Path) -> None:
    found = discover([tmp_path / "nope.xlsx"])
    assert len(found.files) == 1 and found.files[0].missing


def test_equal_names_in_different_folders_keep_distinct_relative_paths(tmp_path: Path) -> None:
    touch(tmp_path / "in" / "north" / "report.xlsx")
    touch(tmp_path / "in" / "south" / "report.xlsx")
    found = discover([tmp_path / "in" / "north", tmp_path / "in" / "south"])
    assert sorted(f.rel for f in found.files) == ["north/report.xlsx", "south/report.xlsx"]


def test_an_explicit_file_is_taken_whatever_its_extension(tmp_path: Path) -> None:
    odd = touch(tmp_path / "export.dat")
    assert [f.path for f in discover([odd]).files] == [odd.resolve()]
