"""collect.json: the same content as 收集情况.xlsx for scripts, streamed agency by agency and file
by file from the spill file. Each status is given twice: "status" the Chinese label shown in the
workbook (合格 …), "status_code" its stable code (ok …)."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from .. import __version__
from ..format.numbers import Number, plain
from ..model.record import FileRecord
from ..model.report import dumps
from ..model.status import ACCEPTED, Status
from .classify import AgencyStatus
from .collection import Collection


def _file_dict(rec: FileRecord, collection: Collection, findings: list[dict[str, Any]]) -> dict[str, Any]:
    agency = collection.agencies[rec.roster].row if rec.roster is not None else None
    return {
        "seq": rec.seq + 1,
        "path": rec.name,
        "size": rec.size,
        "sha256": rec.sha256,
        "status": rec.status.label,
        "status_code": rec.status.code,
        "agency": agency.agency if agency else "",
        "code": agency.code if agency else "",
        "match": rec.match,
        "identity": rec.identity,
        "saved_at": rec.saved_at,
        "application": rec.application,
        "errors": rec.errors,
        "warnings": rec.warnings,
        "note": rec.note,
        "findings": findings,
    }


def _agency_dict(agency: AgencyStatus, figures: Mapping[str, Number | None] | None) -> dict[str, Any]:
    rec = agency.file
    return {
        "seq": agency.index + 1,
        "agency": agency.row.agency,
        "code": agency.row.code,
        "status": agency.status.label,
        "status_code": agency.status.code,
        "file": rec.name if rec else "",
        "sha256": rec.sha256 if rec else "",
        "match": rec.match if rec else "",
        "saved_at": rec.saved_at if rec else "",
        "application": rec.application if rec else "",
        "errors": rec.errors if rec else 0,
        "warnings": rec.warnings if rec else 0,
        "files": [r.name for r in agency.files],
        "note": agency.note,
        "docx": agency.docx,
        "notice": agency.notice,
        "previous": {"file": rec.previous_file, "note": rec.previous_note} if rec and (rec.previous_file or rec.previous_note) else None,
        "figures": figures,
    }


_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")  # what jsonio.dumps writes a Decimal as, unquoted
_MARK = "\0dec"  # what json's encoder is given for a Decimal, and the text it writes for it:
_MARK_JSON = json.dumps(_MARK)  # a JSON string token of its own, which no other text contains


class _Other(Exception):
    """A value dumps knows and json's encoder does not (a BadNumber, a non-finite Decimal)."""


def _dumps(data: Any) -> str:
    """dumps(data, indent=None), without its walk over every value: json's encoder (in C) writes
    the text, given a marker for each Decimal that is then replaced by the Decimal's own digits.
    Whatever it does not know (a BadNumber, a NaN, a marker in the data) is written by dumps."""
    decimals: list[str] = []

    def decimal(value: Any) -> str:
        if type(value) is Decimal and value.is_finite():
            text = plain(value)
            if _NUMBER.fullmatch(text):
                decimals.append(text)
                return _MARK
        raise _Other

    try:
        text = json.dumps(data, ensure_ascii=False, allow_nan=False, default=decimal)
    except (_Other, ValueError, TypeError):
        return dumps(data, indent=None)
    if not decimals:
        return text
    pieces = text.split(_MARK_JSON)
    if len(pieces) != len(decimals) + 1:  # the marker was in the data too
        return dumps(data, indent=None)
    return pieces[0] + "".join(d + piece for d, piece in zip(decimals, pieces[1:], strict=True))


def _agency_text(agency: AgencyStatus, figures: Mapping[str, Number | None] | None) -> str:
    """dumps(_agency_dict(agency, figures), indent=None)."""
    return _dumps(_agency_dict(agency, figures))


def _agency_items_text(agency: AgencyStatus, ids: tuple[str, ...], values: tuple[Any, ...]) -> tuple[str, ...]:
    """_agency_text(agency, dict(zip(ids, values))) in pieces, the figures written from the two
    tuples: json's encoder writes the values as a list, each then follows its key (written once
    per format). Where a value's text could hold the separator (a text, a list), _agency_text.
    (The figures, plain ASCII, are a piece of their own: written as they are.)"""
    text = _dumps(_agency_dict(agency, None))
    figures = _items_text(ids, values)
    if figures is None or not text.endswith(_NO_FIGURES):
        return (_agency_text(agency, dict(zip(ids, values, strict=True))),)
    return text[:-len("null}")], figures, "}"


_NO_FIGURES = ', "figures": null}'


def _items_text(ids: tuple[str, ...], values: tuple[Any, ...]) -> str | None:
    template = _template(ids)
    if template is None or len(ids) != len(values) or not set(map(type, values)) <= _SCALARS:
        return None
    texts = _dumps(values)[1:-1].split(", ")  # "[1, null, 2.5]": each value as the dict's would be
    if len(texts) != len(values):
        return None
    return template % tuple(texts)


_SCALARS = frozenset((int, type(None), Decimal, float, bool))


@functools.lru_cache(maxsize=8)
def _template(ids: tuple[str, ...]) -> str | None:
    """The figures' object as json writes it with "%s" for each value, for the % operator (a
    format's ids: the same tuple each time); None unless every id is a text and there is one."""
    if not ids or not all(type(k) is str for k in ids):
        return None
    return "{" + ", ".join(json.dumps(k, ensure_ascii=False).replace("%", "%%") + ": %s" for k in ids) + "}"


def write_collect_json(collection: Collection, path: Path) -> None:
    """collect.json, streamed: the same content as 收集情况.xlsx."""
    spill = collection.spill
    counts = collection.counts()
    head = {
        "tool": "xlsx-tools collect",
        "version": __version__,
        "generated_at": collection.generated_at,
        "format": collection.spec.id,
        "year": collection.year,
        "year_inferred": collection.year_inferred,
        "source": collection.root,
        "roster": collection.roster_path,
        "summary": {
            "expected": len(collection.agencies),
            "submitted": len(collection.agencies) - counts[Status.MISSING],
            **{s.code: n for s, n in counts.items()},
            "files": collection.files_found,
            "files_by_status": {s.code: n for s, n in collection.file_counts().items()},
            "text": collection.summary_lines(max_names=None),
        },
    }
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("{\n")
        for key, value in head.items():
            fh.write(f" {json.dumps(key)}: {_dumps(value)},\n")
        fh.write(' "agencies": [')
        for i, agency in enumerate(collection.agencies):
            fh.write(",\n  " if i else "\n  ")
            if spill and agency.file and agency.file.has_report:
                fh.writelines(_agency_items_text(agency, *spill.items(agency.file)))
            else:
                fh.write(_agency_text(agency, None))
        fh.write("\n ],\n \"files\": [")
        for i, rec in enumerate(collection.files):
            findings = spill.findings(rec) if (spill and (rec.errors or rec.warnings)) else []
            fh.write(("," if i else "") + "\n  " + _dumps(_file_dict(rec, collection, findings)))
        fh.write("\n ],\n")
        unplaced = [{"path": r.name, "sha256": r.sha256, "status": r.status.label, "status_code": r.status.code,
                     "reason": collection.unattributed_reason(r),
                     "candidates": [collection.agencies[i].row.agency for i in r.candidates]}
                    for r in collection.unattributed()]
        fh.write(' "unattributed": ' + _dumps(unplaced) + ",\n")
        included = [a.row.agency for a in collection.agencies if a.status in ACCEPTED]
        total = {"agencies": collection.total_count, "included": included, "figures": collection.totals}
        fh.write(' "total": ' + _dumps(total) + ",\n")
        fh.write(' "docx": ' + dumps(collection.docx, indent=None) + ",\n")
        if collection.docx_requested:
            fh.write(' "docx_not_written": ' + dumps([{"agency": a, "reason": why} for a, why in collection.docx_missing],
                                                    indent=None) + ",\n")
        fh.write(' "notices": ' + dumps(collection.notices, indent=None) + "\n}\n")
