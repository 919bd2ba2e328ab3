"""Editing an xlsx/xlsm package in place: what find & replace is built on.

openpyxl's load-and-save drops what it does not model (charts, pictures, slicers, controls, threaded
comments, extensions), so the workbook is edited as the zip package it is, and only the parts that hold
the text being replaced are rewritten; every other member is copied as stored.

    parts.py           which zip members are the workbook, its sheets and shared strings (relationships,
                       content types, Strict namespaces, odd part names), tables and pivot areas
    xml_stream.py      a streaming expat parser that knows byte positions, refusing DTDs and entities
    shared_strings.py  the shared-string table: items edited in place, or split off for edited cells
    sheet.py           one worksheet, cell by cell: inline strings, text values, formulas
    rich_string.py     rich-text runs and phonetic guides of one string item
    formulas.py        formula text, shared and array formulas
    matching.py        find & replace's matching (case, whole cell, regular expressions) over text pieces
    text_escapes.py    OOXML's _xHHHH_ escapes
    zip_rewrite.py     the output package: untouched members copied as stored, edited ones recompressed
"""
