"""The words of the made-up office-supplies wholesaler whose sales fill every generated workbook: its
regions (with their countries), its customers and its products (with their category and list price).

One vocabulary for the three generators: the bundled samples (resources/samples/make_samples.py), the
test corpus (tests/corpus.py) and the benchmark corpus (benchmarks/make_corpus.py). It lives here, beside
the test corpus, because that is the one place all three can import without xlbatch: make_samples.py
runs as a plain script (it puts the repository root on sys.path), and tests/corpus.py also runs on the
machine that smoke-tests the frozen build (packaging/ci/smoke.py), where xlbatch is not installed.
Standard library only, for the same reason.

The generators draw from these with seeded random generators, so a change here changes what they write:
regenerate the samples (`python resources/samples/make_samples.py`) after one.
"""

from __future__ import annotations

# The sales regions and the countries a benchmark order names within each.
COUNTRIES: dict[str, tuple[str, ...]] = {
    "North": ("Denmark", "Norway", "Sweden", "Finland"),
    "South": ("Spain", "Italy", "Portugal", "Greece"),
    "East": ("Poland", "Czechia", "Hungary", "Romania"),
    "West": ("France", "Belgium", "Netherlands", "Ireland"),
    "Central": ("Germany", "Austria", "Switzerland"),
}
REGIONS: tuple[str, ...] = tuple(COUNTRIES)

# Accents, ampersands, an apostrophe and letters outside cp1252 on purpose: ordinary data exercises
# encodings and escaping.
CUSTOMERS: tuple[str, ...] = (
    "Northwind Traders",
    "Contoso Ltd",
    "Fabrikam Inc",
    "Müller GmbH",
    "Café Olé SARL",
    "Tailspin Toys",
    "Adventure Works",
    "Smith & Sons",
    "Alpine Ski House",
    "Woodgrove Bank",
    "Litware Inc",
    "Proseware Ltd",
    "Wide World Importers",
    "Lucerne Publishing",
    "Blue Yonder Airlines",
    "Coho Winery",
    "Graphic Design Institute",
    "Margie's Travel",
    "Trey Research",
    "Wingtip Toys",
    "Øresund Logistik A/S",
    "Åkesson & Dahl AB",
    "Żabka Handel Sp. z o.o.",
    "Ferreira & Filhos Lda",
)

# category: {product: list price}
CATALOGUE: dict[str, dict[str, float]] = {
    "Paper": {
        "A4 paper (box)": 24.90,
        "A3 paper (ream)": 11.40,
        "Sticky notes (12)": 8.75,
        "Notebook A5": 3.20,
    },
    "Desk": {
        "Stapler": 7.50,
        "Staples (5000)": 2.35,
        "Lever arch file": 4.15,
        "Desk lamp": 45.00,
        "Monitor arm": 89.00,
        "Paper shredder": 129.00,
    },
    "Furniture": {"Office chair": 189.00, "Standing desk": 549.00, "Filing cabinet": 239.00},
    "Printing": {"Ink cartridge black": 31.99, "Ink cartridge colour": 38.50, "Toner XL": 119.50},
    "Writing": {"Whiteboard markers (10)": 12.35, "Gel pens (20)": 14.20},
    "IT": {"USB-C cable": 9.99, "Wireless mouse": 24.49, "Keyboard": 39.90},
}
# product: list price, and product: category
PRODUCTS: dict[str, float] = {product: price for group in CATALOGUE.values() for product, price in group.items()}
CATEGORIES: dict[str, str] = {product: category for category, group in CATALOGUE.items() for product in group}
