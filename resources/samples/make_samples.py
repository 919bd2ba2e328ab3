"""Builds the sample workbooks shipped with xlbatch, so every task can be tried without one's own files.

Run `python resources/samples/make_samples.py` (or pass another output folder). The content is fixed:
a seeded random generator, fixed dates, fixed document properties, no clock or user name, so running
it again gives the same files (the xlsx, xls and csv files come out byte for byte identical). The
regions, customers and products of the sales ledgers are tests/vocabulary.py's, which the test and
benchmark corpora use too.

The samples:

sales-2024-01.xlsx, sales-2024-02.xls, sales-2024-03.csv
    Monthly sales ledgers of a small office-supplies wholesaler, one sheet "Sales" (the csv has one
    table) with the columns Date, Region, Customer, Product, Quantity, Unit price, Amount and 140, 120
    and 160 rows. Dates are real date cells (ISO yyyy-mm-dd text in the csv), Quantity whole numbers,
    Unit price and Amount numbers with two decimals; Amount = Quantity x Unit price. Three formats on
    purpose: summarize, convert and combine read them all alike. The csv is what Excel's "CSV UTF-8"
    writes: utf-8 with a byte-order mark, commas, CRLF line ends.

invoice-acme-2024-0117.xlsx, invoice-nordic-paper-5531.xlsx
    Two supplier invoices in a form layout, for the extract task: label cells with the value in the
    cell to their right ("Invoice no:", "Date:", "Due date:", "Customer no:", "Subtotal:", "VAT 20%:" or
    "VAT 25%:", "Total:"), a line-item table (Item, Description, Quantity, Unit price, Amount), and
    totals as formulas with their results saved, as Excel saves them. The two suppliers place the
    labels differently (Acme: labels in column A and totals in D:E; Nordic Paper: a block in E:F at the
    top right and totals in E:F), so extraction must go by label, not by cell address.

staff-list.xlsx
    An HR staff list, sheet "Staff": Employee ID, Name, Department, Start date, Salary, 36 employees,
    with the mistakes that clean and validate should find, placed deliberately:
    - B5 " Olivia Brown " and B12 "Noah Davies  " have leading/trailing spaces; C9 "Finance " a trailing one;
    - E7 holds the salary 30500 as text ("30500"), not as a number;
    - row 20 is an exact copy of row 19 (employee E1018 twice);
    - row 27 is blank, inside the table.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import sys
from pathlib import Path
from typing import Any

import xlsxwriter
import xlwt

HERE = Path(__file__).resolve().parent
# The repository root, for the vocabulary the test and benchmark corpora share (tests/vocabulary.py):
# run as a script, only this folder is on the path.
if str(HERE.parents[1]) not in sys.path:
    sys.path.insert(0, str(HERE.parents[1]))
from tests.vocabulary import CUSTOMERS, PRODUCTS, REGIONS  # noqa: E402 - needs the path above

# Document dates written into every xlsx: a fixed moment keeps the files identical from run to run.
CREATED = dt.datetime(2024, 4, 2, 9, 30, 0)
AUTHOR = "xlbatch samples"

SALES_HEADER = ["Date", "Region", "Customer", "Product", "Quantity", "Unit price", "Amount"]
SALES_MONTHS = ((2024, 1, 140, "xlsx"), (2024, 2, 120, "xls"), (2024, 3, 160, "csv"))


def sales_rows(year: int, month: int, count: int) -> list[list[object]]:
    """One month of sales, sorted by date, weekdays only (the warehouse is shut at weekends)."""
    rng = random.Random(year * 100 + month)
    first = dt.date(year, month, 1)
    days = [first + dt.timedelta(days=i) for i in range(31)]
    workdays = [d for d in days if d.month == month and d.weekday() < 5]
    products = list(PRODUCTS)
    rows = []
    for day in sorted(rng.choice(workdays) for _ in range(count)):
        product = rng.choice(products)
        price = PRODUCTS[product]
        if rng.random() < 0.12:  # a negotiated 10% discount for some orders
            price = round(price * 0.9, 2)
        quantity = rng.choice((1, 1, 2, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 40))
        rows.append(
            [day, rng.choice(REGIONS), rng.choice(CUSTOMERS), product, quantity, price, round(quantity * price, 2)]
        )
    return rows


def new_workbook(path: Path) -> xlsxwriter.Workbook:
    book = xlsxwriter.Workbook(str(path))
    book.set_properties({"created": CREATED, "author": AUTHOR, "company": "xlbatch"})
    return book


def write_sales_xlsx(path: Path, rows: list[list[object]]) -> None:
    book = new_workbook(path)
    bold = book.add_format({"bold": True, "bottom": 1})
    date_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
    money = book.add_format({"num_format": "#,##0.00"})
    ws = book.add_worksheet("Sales")
    ws.write_row(0, 0, SALES_HEADER, bold)
    for r, (day, region, customer, product, quantity, price, amount) in enumerate(rows, start=1):
        ws.write_datetime(r, 0, dt.datetime.combine(day, dt.time()), date_fmt)
        ws.write_row(r, 1, [region, customer, product, quantity])
        ws.write_number(r, 5, price, money)
        ws.write_number(r, 6, amount, money)
    ws.set_column(0, 0, 11)
    ws.set_column(1, 1, 8)
    ws.set_column(2, 3, 26)
    ws.set_column(4, 6, 11)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, len(rows), len(SALES_HEADER) - 1)
    book.close()


def write_sales_xls(path: Path, rows: list[list[object]]) -> None:
    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet("Sales")
    bold = xlwt.easyxf("font: bold on")
    date_fmt = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    money = xlwt.easyxf(num_format_str="#,##0.00")
    for c, title in enumerate(SALES_HEADER):
        ws.write(0, c, title, bold)
    for r, (day, region, customer, product, quantity, price, amount) in enumerate(rows, start=1):
        ws.write(r, 0, day, date_fmt)
        for c, value in enumerate((region, customer, product, quantity), start=1):
            ws.write(r, c, value)
        ws.write(r, 5, price, money)
        ws.write(r, 6, amount, money)
    for c, width in enumerate((11, 8, 26, 26, 10, 10, 10)):
        ws.col(c).width = width * 256
    book.save(str(path))


def write_sales_csv(path: Path, rows: list[list[object]]) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)  # Excel's dialect: commas, minimal quoting, CRLF
    writer.writerow(SALES_HEADER)
    for day, region, customer, product, quantity, price, amount in rows:
        writer.writerow([day.isoformat(), region, customer, product, quantity, f"{price:.2f}", f"{amount:.2f}"])
    path.write_bytes(buffer.getvalue().encode("utf-8-sig"))


# -- invoices --------------------------------------------------------------------------------------


Item = tuple[str, str, int, float]  # item code, description, quantity, unit price
Field = tuple[str, str | dt.datetime]  # label, value


def write_fields(ws: Any, row: int, column: int, fields: list[Field], label: Any, date_fmt: Any) -> None:
    """Label cells from (0-based) `row` down in `column`, each with its value in the cell to its right."""
    for offset, (text, value) in enumerate(fields):
        ws.write(row + offset, column, text, label)
        if isinstance(value, dt.datetime):
            ws.write_datetime(row + offset, column + 1, value, date_fmt)
        else:
            ws.write_string(row + offset, column + 1, value)  # "5531" stays text, as an invoice number should


def write_lines_and_totals(ws: Any, header_row: int, items: list[Item], vat_rate: float, column: int, fmt: dict) -> int:
    """The line-item table with its header on (1-based) `header_row`, Amount in E as a formula, and below it
    Subtotal, VAT and Total labels in `column` with their formulas to the right, results saved as Excel
    saves them. Returns the (1-based) row of the Total."""
    ws.write_row(f"A{header_row}", ["Item", "Description", "Quantity", "Unit price", "Amount"], fmt["head"])
    first = header_row + 1
    amounts = [round(quantity * price, 2) for _, _, quantity, price in items]
    for r, ((item, description, quantity, price), amount) in enumerate(zip(items, amounts, strict=True), start=first):
        ws.write_row(r - 1, 0, [item, description, quantity])
        ws.write_number(r - 1, 3, price, fmt["money"])
        ws.write_formula(r - 1, 4, f"=C{r}*D{r}", fmt["money"], amount)
    last = first + len(items) - 1
    subtotal = round(sum(amounts), 2)
    vat = round(subtotal * vat_rate, 2)
    sub_row = last + 2
    values = chr(ord("A") + column + 1)  # the column the totals' values are in
    totals = [
        ("Subtotal:", f"=SUM(E{first}:E{last})", fmt["money"], subtotal),
        (f"VAT {round(vat_rate * 100)}%:", f"=ROUND({values}{sub_row}*{vat_rate:g},2)", fmt["money"], vat),
        ("Total:", f"={values}{sub_row}+{values}{sub_row + 1}", fmt["money_bold"], round(subtotal + vat, 2)),
    ]
    for r, (text, formula, number_format, result) in enumerate(totals, start=sub_row):
        ws.write(r - 1, column, text, fmt["label"])
        ws.write_formula(r - 1, column + 1, formula, number_format, result)
    return sub_row + 2


def write_invoice_acme(path: Path) -> None:
    """Labels in column A with values in B; the line items from row 14; totals in D:E."""
    items = [
        ("P-1001", "A4 paper (box of 5 reams)", 40, 24.90),
        ("P-2040", "Ink cartridge black", 12, 31.99),
        ("P-2041", "Ink cartridge colour", 6, 38.50),
        ("P-3300", "Lever arch file", 50, 4.15),
        ("P-4100", "Whiteboard markers (10)", 8, 12.35),
    ]
    book = new_workbook(path)
    title = book.add_format({"bold": True, "font_size": 16})
    heading = book.add_format({"bold": True, "font_size": 13})
    label = book.add_format({"bold": True})
    date_fmt = book.add_format({"num_format": "dd/mm/yyyy", "align": "left"})
    money = book.add_format({"num_format": "#,##0.00"})
    money_bold = book.add_format({"num_format": "#,##0.00", "bold": True, "top": 1, "bottom": 6})
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "bottom": 1})
    ws = book.add_worksheet("Invoice")
    ws.write("A1", "ACME Office Supplies Ltd", title)
    ws.write("A2", "12 Harbour Road, Bristol BS1 4XY")
    ws.write("A3", "VAT reg. GB 123 4567 89")
    ws.write("A5", "INVOICE", heading)
    fields: list[Field] = [
        ("Invoice no:", "INV-2024-0117"),
        ("Date:", dt.datetime(2024, 3, 14)),
        ("Due date:", dt.datetime(2024, 4, 13)),
        ("Customer no:", "C-1042"),
        ("PO number:", "PO-88231"),
    ]
    write_fields(ws, 6, 0, fields, label, date_fmt)
    ws.write("D7", "Bill to:", label)
    for row, text in enumerate(["Northwind Traders", "4 Market Street", "Leeds LS1 6AB"], start=6):
        ws.write(row, 4, text)
    formats = {"head": head, "money": money, "money_bold": money_bold, "label": label}
    total_row = write_lines_and_totals(ws, 13, items, 0.20, 3, formats)
    ws.write(total_row + 1, 0, "Payment within 30 days to Acme Office Supplies Ltd, IBAN GB29 NWBK 6016 1331 9268 19.")
    ws.set_column("A:A", 14)
    ws.set_column("B:B", 28)
    ws.set_column("C:C", 10)
    ws.set_column("D:D", 12)
    ws.set_column("E:E", 22)
    book.close()


def write_invoice_nordic(path: Path) -> None:
    """Labels in a block at E3:F7 (top right); the line items from row 10; totals in E:F; amounts in EUR."""
    items = [
        ("NP-01", "Copy paper A4 80 g, pallet", 2, 1450.00),
        ("NP-07", "Envelopes C4, box of 250", 20, 18.40),
        ("NP-12", "Recycled notebooks A5 (pack of 10)", 15, 21.75),
    ]
    book = new_workbook(path)
    title = book.add_format({"bold": True, "font_size": 18, "font_color": "#1F4E79"})
    label = book.add_format({"bold": True, "align": "right"})
    date_fmt = book.add_format({"num_format": "yyyy-mm-dd", "align": "left"})
    money = book.add_format({"num_format": '#,##0.00 "EUR"'})
    money_bold = book.add_format({"num_format": '#,##0.00 "EUR"', "bold": True, "top": 1})
    head = book.add_format({"bold": True, "bottom": 2})
    ws = book.add_worksheet("Faktura")
    ws.write("A1", "Nordic Paper AB", title)
    ws.write("A2", "Industrigatan 7, 652 21 Karlstad, Sweden")
    ws.write("A3", "Org. nr 556123-4567")
    ws.write("A5", "Invoice to:")
    ws.write("A6", "Contoso Ltd")
    ws.write("A7", "Att. Accounts payable, 1 Station Road, Reading RG1 1LX")
    fields: list[Field] = [
        ("Invoice no:", "5531"),
        ("Date:", dt.datetime(2024, 3, 21)),
        ("Due date:", dt.datetime(2024, 4, 20)),
        ("Customer no:", "100-2276"),
        ("Currency:", "EUR"),
    ]
    write_fields(ws, 2, 4, fields, label, date_fmt)
    formats = {"head": head, "money": money, "money_bold": money_bold, "label": label}
    total_row = write_lines_and_totals(ws, 10, items, 0.25, 4, formats)
    ws.write(total_row + 2, 0, "Bankgiro 5050-1055. Please quote the invoice number with your payment.")
    ws.set_column("A:A", 10)
    ws.set_column("B:B", 36)
    ws.set_column("C:D", 11)
    ws.set_column("E:E", 16)
    ws.set_column("F:F", 16)
    book.close()


# -- staff list ------------------------------------------------------------------------------------

FIRST_NAMES = (
    "Amelia", "Oliver", "Isla", "George", "Ava", "Harry", "Mia", "Jack", "Sophie", "Leo", "Grace", "Oscar",
    "Lily", "Arthur", "Freya", "Henry", "Emily", "Theo", "Ella", "Jacob", "Chloe", "Samuel", "Ruby", "Daniel",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Jones", "Taylor", "Williams", "Wilson", "Evans", "Thomas", "Roberts", "Walker", "Wright",
    "Hughes", "Green", "Hall", "Wood", "Clarke", "Patel", "Khan", "Lewis", "Jackson", "White",
)  # fmt: skip
DEPARTMENTS = {"Sales": (32000, 48000), "Finance": (38000, 62000), "Warehouse": (26000, 34000), "IT": (42000, 70000)}
STAFF_COUNT = 36


def staff_rows() -> list[list[object]]:
    """The staff list before the deliberate mistakes: unique IDs and names, salaries in steps of 500."""
    rng = random.Random(1842)
    names: list[str] = []
    while len(names) < STAFF_COUNT:
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        if name not in names:
            names.append(name)
    rows = []
    for i, name in enumerate(names):
        department = rng.choice(list(DEPARTMENTS))
        low, high = DEPARTMENTS[department]
        start = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(12 * 365))
        rows.append([f"E{1001 + i}", name, department, start, rng.randrange(low, high, 500)])
    return rows


def write_staff(path: Path) -> None:
    rows = staff_rows()
    # The deliberate mistakes, by sheet row (row 1 is the header, so rows[i] lands on row i + 2).
    rows[3][1] = " Olivia Brown "  # B5
    rows[10][1] = "Noah Davies  "  # B12
    rows[7][2] = "Finance "  # C9
    rows[7][4] = 45500  # a salary in the Finance range, whatever department the row had
    rows[5][4] = str(rows[5][4])  # E7: a number stored as text
    rows.insert(18, list(rows[17]))  # row 20 repeats row 19
    rows.insert(25, None)  # row 27 left blank
    book = new_workbook(path)
    bold = book.add_format({"bold": True, "bottom": 1})
    date_fmt = book.add_format({"num_format": "dd/mm/yyyy"})
    money = book.add_format({"num_format": "#,##0"})
    ws = book.add_worksheet("Staff")
    ws.write_row(0, 0, ["Employee ID", "Name", "Department", "Start date", "Salary"], bold)
    for r, row in enumerate(rows, start=1):
        if row is None:
            continue
        employee, name, department, start, salary = row
        ws.write_string(r, 0, employee)
        ws.write_string(r, 1, name)
        ws.write_string(r, 2, department)
        ws.write_datetime(r, 3, dt.datetime.combine(start, dt.time()), date_fmt)
        if isinstance(salary, str):
            ws.write_string(r, 4, salary)  # what a paste from another system leaves behind
        else:
            ws.write_number(r, 4, salary, money)
    ws.set_column("A:A", 12)
    ws.set_column("B:B", 20)
    ws.set_column("C:C", 12)
    ws.set_column("D:E", 11)
    ws.freeze_panes(1, 0)
    book.close()


def main(folder: Path = HERE) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    writers = {"xlsx": write_sales_xlsx, "xls": write_sales_xls, "csv": write_sales_csv}
    for year, month, count, fmt in SALES_MONTHS:
        path = folder / f"sales-{year}-{month:02d}.{fmt}"
        writers[fmt](path, sales_rows(year, month, count))
        written.append(path)
    for name, writer in (
        ("invoice-acme-2024-0117.xlsx", write_invoice_acme),
        ("invoice-nordic-paper-5531.xlsx", write_invoice_nordic),
        ("staff-list.xlsx", write_staff),
    ):
        writer(folder / name)
        written.append(folder / name)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    for written_path in main(target):
        print(f"{written_path.stat().st_size:>7,d}  {written_path}")
