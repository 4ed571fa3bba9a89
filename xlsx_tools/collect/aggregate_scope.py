"""`aggregate --roster`: the sum limited to the agencies of a roster, and which of them were
included and which left out (with the reason), for the console and the aggregate's JSON."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..model.identity import same_agency
from ..model.record import FileRecord
from ..read.roster import RosterRow
from .aggregate_inputs import Selection

NOT_IN_ROSTER = "的机关不在名单中，未计入。"
SOURCES_NOT_IN_ROSTER = "是汇总报告，其中的{names}不在名单中，未计入。"
NOTHING_RECEIVED = "没有收到该机关的报告"


@dataclass
class RosterScope:
    """The roster's agencies split into those summed (with the file used) and those not (with why)."""

    roster: str  # file name, for messages
    included: list[tuple[RosterRow, FileRecord]] = field(default_factory=list)
    left_out: list[tuple[RosterRow, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"名单「{self.roster}」共 {len(self.included) + len(self.left_out)} 个机关："
               f"计入 {len(self.included)} 个，未计入 {len(self.left_out)} 个。"]
        if self.included:
            out.append("计入的机关：" + "、".join(row.agency for row, _ in self.included) + "。")
        if self.left_out:
            out.append("未计入的机关：" + "；".join(f"{row.agency}（{why}）" for row, why in self.left_out) + "。")
        return out

    def as_json(self) -> dict:
        return {
            "roster": self.roster,
            "included": [{"agency": row.agency, "code": row.code, "file": inp.name} for row, inp in self.included],
            "left_out": [{"agency": row.agency, "code": row.code, "reason": why} for row, why in self.left_out],
        }


def _row_of(rows: Sequence[RosterRow], agency: str, code: str) -> RosterRow | None:
    return next((r for r in rows if same_agency(agency, code, r.agency, r.code)), None)


def limit_to_roster(selection: Selection, rows: Sequence[RosterRow], roster_name: str) -> RosterScope:
    """Move every used input whose agency is not on the roster to the skipped ones (an earlier
    aggregate counts only when every agency it summed is on the roster); say for each roster
    agency which file was summed, or why none was."""
    used: list[FileRecord] = []
    for inp in selection.used:
        if inp.sources:
            outside = [a or c for a, c in inp.sources if _row_of(rows, a, c) is None]
            if outside:
                inp.reason = SOURCES_NOT_IN_ROSTER.format(names="、".join(outside))
        elif _row_of(rows, inp.agency, inp.code) is None:
            inp.reason = NOT_IN_ROSTER
        if inp.reason:
            inp.used = False
            selection.skipped.append(inp)
        else:
            used.append(inp)
    selection.used[:] = used

    scope = RosterScope(roster=roster_name)
    for row in rows:
        inp = next((i for i in used if same_agency(i.agency, i.code, row.agency, row.code)), None)
        if inp is None:  # inside an earlier aggregate?
            inp = next((i for i in used if any(same_agency(a, c, row.agency, row.code) for a, c in i.sources)), None)
        if inp is not None:
            scope.included.append((row, inp))
            continue
        why = next((_short(i) for i in sorted(selection.skipped, key=lambda i: i.name)
                    if i.agency and same_agency(i.agency, i.code, row.agency, row.code)), NOTHING_RECEIVED)
        scope.left_out.append((row, why))
    return scope


def _short(inp: FileRecord) -> str:
    """The skipped file and why, as a clause: 「甲局.xlsx」有 2 处错误（…）。"""
    return f"「{inp.name}」{inp.reason.rstrip('。')}"
