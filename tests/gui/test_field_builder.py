"""The extract field builder: a sample's sheets read by the engine's reader, clicked cells and labels
turned into fields, and each field's value in the sample, which must be what the task extracts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QPushButton, QTableView

from tests.gui.test_window import pick
from xlbatch.gui.field_builder import FieldBuilderDialog
from xlbatch.gui.sample_sheets import (
    cell_field,
    cell_text,
    label_field,
    preview_fields,
    read_sample,
    sheet_reference,
    suggest_name,
)
from xlbatch.runner import run_batch
from xlbatch.tasks.extract import parse_field

ROOT = Path(__file__).resolve().parents[2]
INVOICE = ROOT / "resources" / "samples" / "invoice-acme-2024-0117.xlsx"
OTHER_INVOICE = ROOT / "resources" / "samples" / "invoice-nordic-paper-5531.xlsx"


@pytest.fixture
def invoice(tmp_path) -> Path:
    return Path(shutil.copy2(INVOICE, tmp_path / INVOICE.name))


def test_the_sample_is_read_by_the_engine_and_cells_become_fields(invoice):
    sample = read_sample(invoice)
    sheet = sample.sheets[0]
    assert sheet.name == "Invoice" and sheet.rows[6][:2] == ["Invoice no:", "INV-2024-0117"]
    assert suggest_name(sheet.rows, 6, 1) == "Invoice no"  # the label left of the value
    assert suggest_name(sheet.rows, 13, 4) == "Amount"  # no text to its left: the heading above
    assert suggest_name(sheet.rows, 3, 2) == "C4"  # nothing near it: its reference
    assert cell_field("Invoice no", "Invoice", 6, 1) == "Invoice no=Invoice!B7"
    assert label_field("Total", "Total:") == "Total=label:Total:"
    for sheet_name in ("My sheet", "O'Brien", "2024", "Data!x"):
        field = cell_field("X", sheet_name, 0, 0)
        parsed = parse_field(field)  # the task reads back the sheet the builder wrote
        assert (parsed.sheet, parsed.row, parsed.column) == (sheet_name, 1, 1), field
    assert sheet_reference("Sales") == "Sales" and sheet_reference("My sheet") == "'My sheet'"
    with pytest.raises(ValueError, match="comma"):
        label_field("Total", "Total, net:")
    with pytest.raises(ValueError, match="comma"):
        cell_field("X", "North, South", 0, 0)


def test_an_unreadable_sample_is_said_in_plain_words(tmp_path):
    from xlbatch.gui.sample_sheets import SampleError

    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(INVOICE.read_bytes()[:3000])
    with pytest.raises(SampleError, match="damaged"):
        read_sample(broken)


def test_the_preview_shows_what_the_task_extracts(invoice, tmp_path):
    fields = [
        "Invoice no=Invoice!B7",
        "Date=label:Date:",
        "Total=label:Total:",
        "Missing=label:Discount",
        "Empty=Invoice!C4",
        "Nowhere=Sheet9!A1",
    ]
    previews = {p.name: p for p in preview_fields(read_sample(invoice).source, fields)}
    assert previews["Invoice no"].value == "INV-2024-0117" and previews["Total"].value == "2,300.62"
    assert previews["Date"].value == "2024-03-14"
    assert previews["Missing"].value == "" and "no cell reads 'Discount'" in previews["Missing"].problem
    assert "is empty" in previews["Empty"].problem and "no sheet named 'Sheet9'" in previews["Nowhere"].problem
    # The batch extracts exactly what the preview showed, for every field.
    report = run_batch(task="extract", paths=[str(invoice)], out_dir=str(tmp_path / "out"), params={"fields": fields})
    extracted = json.loads(json.dumps(report.files[0].result["fields"], default=str))
    assert {name: cell_text(value) for name, value in extracted.items()} == {n: p.value for n, p in previews.items()}
    broken = preview_fields(read_sample(invoice).source, ["no equals sign"])
    assert broken[0].value == "" and "must look like" in broken[0].problem


def click(qtbot, grid: QTableView, row: int, column: int) -> None:
    grid.scrollTo(grid.model().index(row, column))
    rect = grid.visualRect(grid.model().index(row, column))
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_clicking_cells_and_labels_adds_fields_with_their_values(qtbot, invoice):
    dialog = FieldBuilderDialog(["Customer=Invoice!B10"], [str(invoice), str(OTHER_INVOICE)])
    qtbot.addWidget(dialog)
    dialog.show()
    grid = dialog.findChild(QTableView, "sampleGrid")
    click(qtbot, grid, 6, 1)  # B7: the invoice number
    dialog.label_mode.setChecked(True)
    click(qtbot, grid, 21, 3)  # D22: "Total:" -> the value right of it
    click(qtbot, grid, 21, 3)  # twice: the second gets a name of its own
    assert dialog.fields() == [
        "Customer=Invoice!B10",
        "Invoice no=Invoice!B7",
        "Total=label:Total:",
        "Total 2=label:Total:",
    ]
    assert dialog.value_texts() == ["C-1042", "INV-2024-0117", "2,300.62", "2,300.62"]
    click(qtbot, grid, 3, 2)  # an empty cell is no label
    assert len(dialog.fields()) == 4 and "text in it" in dialog.message.text()
    dialog.table.item(0, 0).setText("Customer no")  # names can be edited
    dialog.table.selectRow(3)
    qtbot.mouseClick(dialog.findChild(QPushButton, "removeFieldButton"), Qt.MouseButton.LeftButton)
    assert dialog.fields() == ["Customer no=Invoice!B10", "Invoice no=Invoice!B7", "Total=label:Total:"]
    # Another sample: the label still finds its value, the fixed cell may not.
    assert dialog.open_sample(str(OTHER_INVOICE))
    other = {p.name: p for p in preview_fields(read_sample(OTHER_INVOICE).source, dialog.fields())}
    assert dialog.value_texts() == [other[n].value or other[n].problem for n in ("Customer no", "Invoice no", "Total")]


def test_the_task_box_offers_the_builder_for_extract_and_takes_its_fields(window, qtbot, invoice):
    window.add_paths([invoice])
    button = window.findChild(QPushButton, "fieldBuilderButton")
    pick(window, "taskCombo", "summarize")
    assert not button.isVisible()
    pick(window, "taskCombo", "extract")
    assert button.isVisible() and not window.task_panel.valid  # no field yet
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialog = window.findChild(FieldBuilderDialog, "fieldBuilder")
    assert dialog is not None and dialog.sample_combo.currentData() == str(invoice.resolve())
    click(qtbot, dialog.findChild(QTableView, "sampleGrid"), 6, 1)
    dialog.label_mode.setChecked(True)
    click(qtbot, dialog.findChild(QTableView, "sampleGrid"), 7, 0)  # "Date:"
    dialog.done(QDialog.DialogCode.Accepted)
    assert window.task_panel.values()["fields"] == "Invoice no=Invoice!B7, Date=label:Date:"
    assert window.task_panel.valid
