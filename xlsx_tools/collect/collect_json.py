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


@functools.lru_cache(maxsize=4096)
def _key(field_id: str) -> str:
    return json.dumps(field_id, ensure_ascii=False) + ": "


def _figures_text(figures: Mapping[str, Number | None]) -> str | None:
    """The figures as dumps(figures, indent=None) writes them, without its walk over every value:
    ints, None and decimals written with their own digits; None when a value is anything else
    (dumps writes that one)."""
    parts = []
    for k, v in figures.items():
        t = type(v)
        if t is int:
            text = str(v)
        elif v is None:
            text = "null"
        elif t is Decimal and v.is_finite():
            text = plain(v)
            if not _NUMBER.fullmatch(text):
                return None
        else:
            return None
        parts.append(_key(k) + text)
    return "{" + ", ".join(parts) + "}"


def _agency_text(agency: AgencyStatus, figures: Mapping[str, Number | None] | None) -> str:
    """dumps(_agency_dict(agency, figures), indent=None), its figures (the last key) written by
    _figures_text."""
    fast = _figures_text(figures) if figures is not None and all(type(k) is str for k in figures) else None
    if fast is None:
        return dumps(_agency_dict(agency, figures), indent=None)
    text = dumps(_agency_dict(agency, None), indent=None)
    if not text.endswith(', "figures": null}'):
        return dumps(_agency_dict(agency, figures), indent=None)
    return text[:-len("null}")] + fast + "}"


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
            fh.write(f" {json.dumps(key)}: {dumps(value, indent=None)},\n")
        fh.write(' "agencies": [')
        for i, agency in enumerate(collection.agencies):
            figures = spill.figures(agency.file) if (spill and agency.file and agency.file.has_report) else None
            fh.write(("," if i else "") + "\n  " + _agency_text(agency, figures))
        fh.write("\n ],\n \"files\": [")
        for i, rec in enumerate(collection.files):
            findings = spill.findings(rec) if (spill and (rec.errors or rec.warnings)) else []
            fh.write(("," if i else "") + "\n  " + dumps(_file_dict(rec, collection, findings), indent=None))
        fh.write("\n ],\n")
        unplaced = [{"path": r.name, "sha256": r.sha256, "status": r.status.label, "status_code": r.status.code,
                     "reason": collection.unattributed_reason(r),
                     "candidates": [collection.agencies[i].row.agency for i in r.candidates]}
                    for r in collection.unattributed()]
        fh.write(' "unattributed": ' + dumps(unplaced, indent=None) + ",\n")
        included = [a.row.agency for a in collection.agencies if a.status in ACCEPTED]
        total = {"agencies": collection.total_count, "included": included, "figures": collection.totals}
        fh.write(' "total": ' + dumps(total, indent=None) + ",\n")
        fh.write(' "docx": ' + dumps(collection.docx, indent=None) + ",\n")
        if collection.docx_requested:
            fh.write(' "docx_not_written": ' + dumps([{"agency": a, "reason": why} for a, why in collection.docx_missing],
                                                    indent=None) + ",\n")
        fh.write(' "notices": ' + dumps(collection.notices, indent=None) + "\n}\n")
