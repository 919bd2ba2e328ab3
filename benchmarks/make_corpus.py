"""Deterministic benchmark corpus: realistic business workbooks in three sizes.

    python -m benchmarks.make_corpus [DIR] [--quick] [--files N] [--mb M] [--large MB,MB,...] [--tiny N]

Writes, below DIR (default: the system temp folder's `xlbatch-bench-corpus`, or `...-quick`):

    standard/  N workbooks of about M MB (default 40 x 1 MB): sales ledgers (dates, order numbers,
               regions, customers, amounts, a paid flag, a SUBTOTAL row with its saved result) and HR
               lists (ids, names, departments, hire dates, salaries), 3 ledgers in 4, sizes spread
               +-20% around M so samples "across sizes" mean something
    large/     a few big sales ledgers (default 10, 15 and 20 MB)
    tiny/      N one-page invoices (default 2,000): a form with merged title cells, a bill-to block,
               5-15 line items with formulas and their saved results; a few kB each, for per-file overhead

The same arguments always give the same cell contents and the same bytes (fixed document dates; seeds
derived from each file's position). Files are written with xlsxwriter in `constant_memory` mode, which
keeps memory flat however big the sheet, spread over the cores with a process pool. A `corpus.json`
manifest records the arguments, so `benchmarks/run.py` regenerates only when they changed.

`--quick` writes a small version (8 x 0.5 MB, one 5 MB ledger, 200 invoices) for a run of a couple of
minutes on a busy two-core machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tests.vocabulary import CATEGORIES, COUNTRIES, CUSTOMERS, PRODUCTS, REGIONS

# Fixed document dates, so that writing the same content twice gives the same bytes.
FIXED_CREATED = dt.datetime(2024, 1, 1, 9, 0, 0)

# Bytes one data row takes in the compressed xlsx (measured on these generators; the file sizes the
# generator prints show how close they land). Used to turn a size in MB into a row count.
LEDGER_BYTES_PER_ROW = 62.0
HR_BYTES_PER_ROW = 72.0

SALES_REPS = (
    "Anna Berg",
    "Luis García",
    "Chen Wei",
    "Fatima Zahra",
    "John O'Neill",
    "Marie Dubois",
    "Piotr Nowak",
    "Sofia Rossi",
    "Tom Jensen",
    "Yuki Tanaka",
)
DEPARTMENTS = {
    "Finance": ("Accountant", "Controller", "Financial Analyst", "Payroll Specialist"),
    "Sales": ("Account Manager", "Sales Representative", "Sales Director"),
    "Operations": ("Warehouse Associate", "Logistics Planner", "Operations Manager"),
    "IT": ("Support Technician", "Developer", "Systems Administrator"),
    "HR": ("HR Generalist", "Recruiter", "HR Business Partner"),
    "Marketing": ("Marketing Specialist", "Content Writer", "Brand Manager"),
}
LOCATIONS = ("London", "Lyon", "München", "Kraków", "Sevilla", "Göteborg", "Rotterdam", "Dublin")
FIRST_NAMES = (
    "Emma",
    "Noah",
    "Olivia",
    "Liam",
    "Chloé",
    "Lukas",
    "Zofia",
    "Mateo",
    "Ingrid",
    "Sean",
    "Aisha",
    "Jürgen",
    "Lucía",
    "Finn",
    "Élodie",
    "Kenji",
    "Maja",
    "Oskar",
)
LAST_NAMES = (
    "Smith",
    "Müller",
    "Kowalski",
    "García",
    "Dubois",
    "Jansen",
    "Rossi",
    "Andersson",
    "O'Brien",
    "Novák",
    "Fernández",
    "Nielsen",
    "Schäfer",
    "Moreau",
    "Costa",
    "Lindqvist",
)
STATUSES = ("Active", "Active", "Active", "Active", "Active", "On leave", "Terminated")


@dataclass(frozen=True)
class CorpusSpec:
    """The arguments that decide a corpus's content; stored in corpus.json."""

    files: int = 40
    mb: float = 1.0
    large_mb: tuple[float, ...] = (10.0, 15.0, 20.0)
    tiny: int = 2000

    @classmethod
    def quick(cls) -> CorpusSpec:
        return cls(files=8, mb=0.5, large_mb=(5.0,), tiny=200)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["large_mb"] = list(self.large_mb)
        return data


def default_dir(quick: bool = False) -> Path:
    return Path(tempfile.gettempdir()) / ("xlbatch-bench-corpus-quick" if quick else "xlbatch-bench-corpus")


# -- row generators (pure: a seed gives the same rows) ---------------------------------------------


def ledger_rows(rows: int, seed: int) -> Iterator[list[Any]]:
    """A year of sales orders: date, order no, region, country, customer, rep, product, category, quantity,
    unit price, discount (blank for most rows), amount, paid."""
    rng = random.Random(seed)
    year = 2020 + seed % 5
    start = dt.date(year, 1, 1)
    # Ascending dates, like an export from an order system.
    days = sorted(rng.randrange(365) for _ in range(rows))
    regions = list(REGIONS)
    products = list(PRODUCTS)
    for number, day in enumerate(days, start=1):
        region = rng.choice(regions)
        product = rng.choice(products)
        category, price = CATEGORIES[product], PRODUCTS[product]
        quantity = rng.randint(1, 60)
        discount = rng.choice((0.05, 0.1, 0.15)) if rng.random() < 0.25 else None
        amount = round(quantity * price * (1 - (discount or 0)), 2)
        yield [
            start + dt.timedelta(days=day),
            f"SO-{year}-{seed % 100:02d}{number:06d}",
            region,
            rng.choice(COUNTRIES[region]),
            rng.choice(CUSTOMERS),
            rng.choice(SALES_REPS),
            product,
            category,
            quantity,
            price,
            discount,
            amount,
            rng.random() < 0.8,
        ]


LEDGER_HEADER = [
    "Order date",
    "Order no",
    "Region",
    "Country",
    "Customer",
    "Sales rep",
    "Product",
    "Category",
    "Quantity",
    "Unit price",
    "Discount",
    "Amount",
    "Paid",
]


def hr_rows(rows: int, seed: int) -> Iterator[list[Any]]:
    """Employees: id, first and last name, email, department, job title, location, hire date, salary,
    bonus %, manager id, status, full-time."""
    rng = random.Random(seed)
    departments = list(DEPARTMENTS)
    for number in range(1, rows + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        department = rng.choice(departments)
        hired = dt.date(2000, 1, 1) + dt.timedelta(days=rng.randrange(9000))
        salary = round(rng.gauss(52000, 14000) / 100) * 100
        yield [
            f"E{seed % 100:02d}{number:06d}",
            first,
            last,
            f"{first}.{last}{number}@example.com".lower().replace("'", ""),
            department,
            rng.choice(DEPARTMENTS[department]),
            rng.choice(LOCATIONS),
            hired,
            max(salary, 21000),
            rng.choice((0, 0, 0.05, 0.08, 0.1, 0.15)),
            f"E{seed % 100:02d}{rng.randint(1, max(1, rows // 10)):06d}" if number > 5 else None,
            rng.choice(STATUSES),
            rng.random() < 0.85,
        ]


HR_HEADER = [
    "Employee ID",
    "First name",
    "Last name",
    "Email",
    "Department",
    "Job title",
    "Location",
    "Hire date",
    "Salary",
    "Bonus %",
    "Manager ID",
    "Status",
    "Full-time",
]


# -- writers ----------------------------------------------------------------------------------------


def _new_book(path: Path, constant_memory: bool = True) -> Any:
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path), {"constant_memory": constant_memory})
    book.set_properties({"created": FIXED_CREATED, "author": "Finance"})
    return book


def write_table(path: Path, sheet: str, header: list[str], rows: Iterator[list[Any]], money_columns: set[int]) -> int:
    """A table sheet, row by row (constant_memory), with formats a real export has; returns data rows."""
    book = _new_book(path)
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "bottom": 1})
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    money = book.add_format({"num_format": "#,##0.00"})
    percent = book.add_format({"num_format": "0%"})
    ws = book.add_worksheet(sheet)
    ws.freeze_panes(1, 0)
    ws.set_column(0, len(header) - 1, 14)
    ws.write_row(0, 0, header, bold)
    count = 0
    amount_total = 0.0
    for r, row in enumerate(rows, start=1):
        count += 1
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, bool):
                ws.write_boolean(r, c, value)
            elif isinstance(value, dt.date):
                ws.write_datetime(r, c, value, date_format)
            elif isinstance(value, float) and value < 1 and c not in money_columns:
                ws.write_number(r, c, value, percent)
            elif isinstance(value, int | float):
                ws.write_number(r, c, value, money if c in money_columns else None)
            else:
                ws.write_string(r, c, value)
        if money_columns:
            amount_total += row[max(money_columns)] or 0
    if money_columns:
        # The total row a person adds below an export, with its saved result (as Excel would store it).
        last = max(money_columns)
        column = chr(ord("A") + last)
        ws.write_string(count + 1, 0, "Total", bold)
        ws.write_formula(count + 1, last, f"=SUBTOTAL(9,{column}2:{column}{count + 1})", money, round(amount_total, 2))
    book.close()
    return count


def write_invoice(path: Path, seed: int) -> None:
    """A one-page invoice form: merged title, seller and bill-to blocks, line items with formulas."""
    rng = random.Random(seed)
    book = _new_book(path, constant_memory=False)  # merged ranges and formulas written out of row order
    title = book.add_format({"bold": True, "font_size": 16})
    bold = book.add_format({"bold": True})
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "bottom": 1})
    money = book.add_format({"num_format": "#,##0.00"})
    total_format = book.add_format({"num_format": "#,##0.00", "bold": True, "top": 1})
    date_format = book.add_format({"num_format": "dd/mm/yyyy"})
    ws = book.add_worksheet("Invoice")
    ws.set_column(0, 0, 34)
    ws.set_column(1, 3, 13)
    ws.merge_range(0, 0, 0, 3, "ACME Office Supplies Ltd", title)
    ws.write_string(1, 0, "12 Harbour Road, Bristol BS1 4XX")
    number = 24000 + seed
    issued = dt.date(2024, 1, 1) + dt.timedelta(days=seed % 360)
    customer = rng.choice(CUSTOMERS)
    for row, (label, value) in enumerate(
        [
            ("Invoice no", f"INV-{number}"),
            ("Invoice date", issued),
            ("Due date", issued + dt.timedelta(days=30)),
            ("Customer", customer),
            ("Customer no", f"C{rng.randint(1000, 9999)}"),
            ("Bill to", f"{rng.randint(1, 250)} {rng.choice(LOCATIONS)} Street"),
        ],
        start=3,
    ):
        ws.write_string(row, 0, label, bold)
        if isinstance(value, dt.date):
            ws.write_datetime(row, 1, value, date_format)
        else:
            ws.write_string(row, 1, value)
    first = 11
    ws.write_row(first - 1, 0, ["Description", "Quantity", "Unit price", "Amount"], head)
    subtotal = 0.0
    lines = rng.randint(5, 15)
    for i in range(lines):
        r = first + i
        product = rng.choice(list(PRODUCTS))
        quantity = rng.randint(1, 20)
        price = PRODUCTS[product]
        amount = round(quantity * price, 2)
        subtotal += amount
        ws.write_string(r, 0, product)
        ws.write_number(r, 1, quantity)
        ws.write_number(r, 2, price, money)
        ws.write_formula(r, 3, f"=B{r + 1}*C{r + 1}", money, amount)
    end = first + lines
    vat = round(subtotal * 0.2, 2)
    ws.write_string(end + 1, 2, "Subtotal", bold)
    ws.write_formula(end + 1, 3, f"=SUM(D{first + 1}:D{end})", money, round(subtotal, 2))
    ws.write_string(end + 2, 2, "VAT 20%", bold)
    ws.write_formula(end + 2, 3, f"=ROUND(D{end + 2}*0.2,2)", money, vat)
    ws.write_string(end + 3, 2, "Total", bold)
    ws.write_formula(end + 3, 3, f"=D{end + 2}+D{end + 3}", total_format, round(subtotal + vat, 2))
    ws.merge_range(end + 5, 0, end + 5, 3, "Payment within 30 days to IBAN GB00 ACME 0000 1234 5678 90")
    book.close()


# -- the corpus -------------------------------------------------------------------------------------


def _standard_job(index: int, count: int, mb: float, folder: str) -> tuple[str, int]:
    # Sizes spread evenly over 0.8-1.2 x the target, in a shuffled but fixed order.
    spread = 0.8 + 0.4 * ((index * 7) % count) / max(count - 1, 1)
    target = mb * 1_000_000 * spread
    if index % 4 == 3:
        path = Path(folder) / f"hr-list-{index:03d}.xlsx"
        write_table(path, "Employees", HR_HEADER, hr_rows(int(target / HR_BYTES_PER_ROW), 1000 + index), set())
    else:
        path = Path(folder) / f"sales-ledger-{index:03d}.xlsx"
        rows = ledger_rows(int(target / LEDGER_BYTES_PER_ROW), index)
        write_table(path, "Sales", LEDGER_HEADER, rows, {9, 11})
    return str(path), path.stat().st_size


def _large_job(index: int, mb: float, folder: str) -> tuple[str, int]:
    path = Path(folder) / f"sales-ledger-{mb:g}MB.xlsx"
    rows = ledger_rows(int(mb * 1_000_000 / LEDGER_BYTES_PER_ROW), 500 + index)
    write_table(path, "Sales", LEDGER_HEADER, rows, {9, 11})
    return str(path), path.stat().st_size


def _tiny_job(start: int, stop: int, folder: str) -> tuple[str, int]:
    total = 0
    for i in range(start, stop):
        path = Path(folder) / f"invoice-{i:05d}.xlsx"
        write_invoice(path, i)
        total += path.stat().st_size
    return folder, total


def make_corpus(root: str | os.PathLike[str], spec: CorpusSpec, workers: int | None = None, log: Any = print) -> Path:
    """Write the corpus described by `spec` below `root` (replacing an older one) and return `root`."""
    root = Path(root)
    manifest = root / "corpus.json"
    if manifest.is_file():
        manifest.unlink()  # a half-rewritten corpus must not pass for a finished one
    for sub in ("standard", "large", "tiny"):
        folder = root / sub
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.xlsx"):
            old.unlink()
    started = time.perf_counter()
    workers = workers or os.cpu_count() or 1
    with ProcessPoolExecutor(workers) as pool:
        # Biggest jobs first so the pool does not end on one long file.
        futures = [pool.submit(_large_job, i, mb, str(root / "large")) for i, mb in enumerate(spec.large_mb)]
        futures += [
            pool.submit(_standard_job, i, spec.files, spec.mb, str(root / "standard")) for i in range(spec.files)
        ]
        step = 100
        futures += [
            pool.submit(_tiny_job, i, min(i + step, spec.tiny), str(root / "tiny")) for i in range(0, spec.tiny, step)
        ]
        sizes = [f.result() for f in futures]
    large = sizes[: len(spec.large_mb)]
    standard = sizes[len(spec.large_mb) : len(spec.large_mb) + spec.files]
    tiny_total = sum(size for _path, size in sizes[len(spec.large_mb) + spec.files :])
    summary = {
        "spec": spec.to_dict(),
        "standard_bytes": sum(s for _p, s in standard),
        "large_bytes": [s for _p, s in large],
        "tiny_bytes": tiny_total,
        "seconds": round(time.perf_counter() - started, 1),
    }
    manifest.write_text(json.dumps(summary, indent=2))
    sizes_mb = [s / 1e6 for _p, s in standard]
    log(
        f"corpus in {root}: standard {spec.files} files, {summary['standard_bytes'] / 1e6:.1f} MB "
        f"(min {min(sizes_mb, default=0):.2f}, max {max(sizes_mb, default=0):.2f}); "
        f"large {', '.join(f'{s / 1e6:.1f}' for s in summary['large_bytes'])} MB; "
        f"tiny {spec.tiny} files, {tiny_total / 1e6:.1f} MB; written in {summary['seconds']} s"
    )
    return root


def corpus_is_current(root: str | os.PathLike[str], spec: CorpusSpec) -> bool:
    """True if `root` holds a finished corpus made with the same arguments."""
    manifest = Path(root) / "corpus.json"
    try:
        return json.loads(manifest.read_text())["spec"] == spec.to_dict()
    except (OSError, ValueError, KeyError):
        return False


def ensure_corpus(root: str | os.PathLike[str], spec: CorpusSpec, log: Any = print) -> Path:
    if corpus_is_current(root, spec):
        return Path(root)
    return make_corpus(root, spec, log=log)


def parse_args(argv: list[str] | None = None) -> tuple[Path, CorpusSpec]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", nargs="?", help="where to write (default: a folder in the temp directory)")
    parser.add_argument("--quick", action="store_true", help="a small corpus for a run of a couple of minutes")
    parser.add_argument("--files", type=int, help="number of standard workbooks (default 40)")
    parser.add_argument("--mb", type=float, help="size of a standard workbook in MB (default 1)")
    parser.add_argument("--large", help="sizes of the large workbooks in MB, comma-separated (default 10,15,20)")
    parser.add_argument("--tiny", type=int, help="number of tiny invoices (default 2000)")
    args = parser.parse_args(argv)
    spec = CorpusSpec.quick() if args.quick else CorpusSpec()
    changes: dict[str, Any] = {}
    if args.files is not None:
        changes["files"] = args.files
    if args.mb is not None:
        changes["mb"] = args.mb
    if args.large is not None:
        changes["large_mb"] = tuple(float(x) for x in args.large.split(",") if x.strip())
    if args.tiny is not None:
        changes["tiny"] = args.tiny
    spec = CorpusSpec(**{**spec.to_dict(), **changes, "large_mb": changes.get("large_mb", spec.large_mb)})
    return Path(args.dir) if args.dir else default_dir(args.quick), spec


def main(argv: list[str] | None = None) -> int:
    root, spec = parse_args(argv)
    make_corpus(root, spec)
    return 0


if __name__ == "__main__":
    sys.exit(main())
