"""Reading the CSV files people make with spreadsheets: one reader for every upload and import.

A spreadsheet saves "CSV" in the encoding and with the separator of its locale: UTF-8 (with or
without a byte-order mark), UTF-16 (Excel's "Unicode text"), or the Windows code page (cp1252);
separated by commas, semicolons (where the comma is the decimal mark) or tabs. The reader takes all
of them, and tells in one sentence why a file that is not CSV text at all (a workbook, an image) is
refused.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

DELIMITERS = ",;\t"
_WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # .xlsx/.ods (zip), .xls (OLE)


class CsvFileError(Exception):
    """The file cannot be read as CSV; the message is one sentence for the person who made it."""


@dataclass(frozen=True)
class CsvText:
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (line number, cells), blank lines left out
    encoding: str
    delimiter: str


def decode(data: bytes) -> tuple[str, str]:
    """The file's text and the encoding it was read with."""
    if data.startswith(_WORKBOOK_MAGIC):
        raise CsvFileError("The file is a spreadsheet workbook, not CSV: save it as CSV and try again.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise CsvFileError(
                "The file says it is UTF-16 text but is not: save it as CSV (UTF-8)."
            ) from None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:  # no cell of a CSV holds a NUL: binary data, or UTF-16 without its mark
            raise CsvFileError("The file holds binary data, so it is not CSV text: save it as CSV (UTF-8).")
        return text, encoding
    raise CsvFileError(
        "The file is not text in any encoding a spreadsheet saves CSV in: save it as CSV (UTF-8)."
    )


def read_csv(data: bytes, *, max_rows: int) -> CsvText:
    """The header and the non-blank rows of a CSV file, whatever its encoding and separator."""
    text, encoding = decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=first_line.count)  # the header line tells which separator it is
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise CsvFileError("The file is empty: its first line must name the columns.")
        rows: list[tuple[int, list[str]]] = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= max_rows:
                raise CsvFileError(f"The file has more than {max_rows:,} rows: split it into several files.")
            rows.append((reader.line_num, cells))
    except csv.Error as exc:
        raise CsvFileError(f"Line {reader.line_num} cannot be read: {exc}.") from None
    return CsvText([cell.strip() for cell in header], rows, encoding, delimiter)
