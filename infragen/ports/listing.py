"""`infragen ports`: every port of the estate, as a table, JSON, CSV or Markdown."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from typing import Any

from infragen.render.filters import markdown_cell

COLUMNS = ("host", "port", "protocol", "service", "name", "exposure", "role", "status")


def _port_text(row: dict[str, Any]) -> str:
    if row["port"] is None:
        return "-"
    return f"{row['port']}-{row['end']}" if row["end"] else str(row["port"])


def _cells(row: dict[str, Any]) -> list[str]:
    return [_port_text(row) if column == "port" else str(row[column]) for column in COLUMNS]


def text_table(header: Sequence[str], lines: list[list[str]]) -> str:
    """Columns padded to their widest cell, two spaces apart, a header line first."""
    table = [list(header), *lines]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    return "".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        + "\n"
        for line in table
    )


def as_table(rows: list[dict[str, Any]]) -> str:
    return text_table(COLUMNS, [_cells(row) for row in rows])


def as_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, indent=2) + "\n"


def as_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(_cells(row) for row in rows)
    return out.getvalue()


def as_markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(markdown_cell(c) for c in _cells(row)) + " |" for row in rows]
    return "\n".join(lines) + "\n"


FORMATS: dict[str, Callable[[list[dict[str, Any]]], str]] = {
    "table": as_table,
    "json": as_json,
    "csv": as_csv,
    "md": as_markdown,
}
