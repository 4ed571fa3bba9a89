"""Which roster agency a name means: the name a workbook carries, or a file name as an agency
writes it (卫健局.csv, 市场监管局年报.xls, 医保局.docx — short forms, no district prefix).

The usual short forms are data (xlsx_tools/data/agency-names.toml); a roster may add its own per
agency (a 简称/别名 column). Each roster agency gets a set of forms: its full name, the name without
the roster's shared place prefix, its aliases, the variants with the usual short forms, and (only
where followed by the end of the name or a word like 年报) the name without its ending (局, 委…).

A file name matches the agencies whose forms it contains; a form found inside a longer form of
another agency does not count (民政 in 人民政府办公室). Exactly one agency left is a match; two or
more are ambiguous: reported, never guessed. Names are compared after NFKC (full/half width) with
spaces removed, first with case kept (ABC局 and abc局 are two agencies), then case-insensitively.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from .identity import agency_key

MAX_VARIANTS = 64  # variants of one name (a few abbreviation groups apply to any one name)
MIN_FORM = 2  # characters: a one-character form would match anything


@dataclass(frozen=True)
class NameData:
    abbreviations: tuple[tuple[str, ...], ...]
    endings: tuple[tuple[str, ...], ...]
    optional_endings: tuple[str, ...]
    after_short: tuple[str, ...]
    region_endings: tuple[str, ...]
    never_short: frozenset[str]
    alias_columns: tuple[str, ...]


@cache
def name_data() -> NameData:
    text = resources.files("xlsx_tools").joinpath("data/agency-names.toml").read_text(encoding="utf-8")
    d = tomllib.loads(text)

    def groups(key: str) -> tuple[tuple[str, ...], ...]:
        return tuple(tuple(norm(s) for s in g) for g in d.get(key, ()))

    return NameData(
        abbreviations=groups("abbreviations"), endings=groups("endings"),
        optional_endings=tuple(sorted((norm(s) for s in d.get("optional_endings", ())), key=len, reverse=True)),
        after_short=tuple(norm(s) for s in d.get("after_short", ())),
        region_endings=tuple(sorted((norm(s) for s in d.get("region_endings", ())), key=len, reverse=True)),
        never_short=frozenset(norm(s) for s in d.get("never_short", ())),
        alias_columns=tuple(d.get("alias_columns", ())),
    )


@cache
def _patterns() -> tuple[tuple[tuple[tuple[str, ...], re.Pattern[str]], ...], re.Pattern[str], re.Pattern[str]]:
    """Compiled once (not per roster): each abbreviation group with the pattern that finds any of
    its members, the place name before a region ending (其他区 in 其他区教育局), and the pattern
    that finds a member of any group."""
    data = name_data()
    ending = "|".join(re.escape(e) for e in data.region_endings)
    abbreviations = tuple((group, re.compile("|".join(re.escape(m) for m in group if m)))
                          for group in data.abbreviations)
    anywhere = re.compile("|".join(re.escape(m) for group in data.abbreviations for m in group if m) or "(?!)")
    return abbreviations, re.compile(rf"[^\W\d_]{{2,10}}?(?:{ending})$"), anywhere


def norm(text: str, fold: bool = False) -> str:
    """Full/half width alike (NFKC), no spaces; case-insensitive with `fold`."""
    out = agency_key(text)
    return out.casefold() if fold else out


def _keys(text: str) -> tuple[str, str]:
    """norm(text) and norm(text, fold=True): one object when they are equal, as for most Chinese
    names (a national roster's index holds 150,000 of each)."""
    plain = norm(text)
    folded = plain.casefold()
    return plain, plain if folded == plain else folded


_ALIAS_SPLIT = re.compile(r"[、;；,，/／]")


def split_aliases(text: str) -> list[str]:
    """The short names of a roster's 简称/别名 cell: several, separated by 、 ; ； (or commas)."""
    return [a.strip() for a in _ALIAS_SPLIT.split(text or "") if a.strip()]


def _is_cjk(ch: str) -> bool:
    return unicodedata.category(ch) == "Lo"


@dataclass(frozen=True)
class NameMatch:
    """The result of a lookup: `index` of the one agency meant, or the `candidates` when several
    are (ambiguous), or neither. `loose`: found by a short form, an alias or without the place
    prefix rather than by the name as written in the roster. `part`: the piece of the file path
    that named it."""

    index: int | None = None
    candidates: tuple[int, ...] = ()
    loose: bool = False
    part: str = ""

    @property
    def ambiguous(self) -> bool:
        return self.index is None and len(self.candidates) > 1


NO_MATCH = NameMatch()

# rank of a form: the name as written, then its variants, then the short forms (without ending)
PRIMARY, VARIANT, SHORT = 0, 1, 2


class NameMatcher:
    """Finds roster agencies by name. `names[i]` and `aliases[i]` are agency i's."""

    def __init__(self, names: Sequence[str], aliases: Sequence[Iterable[str]] = ()):
        self.data = name_data()
        self.names = list(names)
        alias_lists = [list(a) for a in aliases] + [[] for _ in range(len(names) - len(aliases))]
        self.prefixes = region_prefixes(self.names, self.data)
        self._abbreviations, self._place_before, self._any_abbreviation = _patterns()
        # exact names, by fold
        self._exact: list[dict[str, list[int]]] = [{}, {}]
        # forms -> {agency index: rank}, by fold
        building: list[dict[str, dict[int, int]]] = [{}, {}]
        for i, name in enumerate(self.names):
            for fold, key in enumerate(_keys(name)):
                self._exact[fold].setdefault(key, []).append(i)
            for form, rank in self._agency_forms(name, alias_lists[i]).items():
                for fold, key in enumerate(_keys(form)):
                    slot = building[fold].setdefault(key, {})
                    slot[i] = min(rank, slot.get(i, rank))
        # once built, each form's agencies as (index, rank) pairs: a tuple holds one agency in
        # about half of a dict's memory, and most forms are one agency's (each dict is freed as
        # its tuple is made; the order of the forms does not matter)
        self._forms: list[dict[str, tuple[tuple[int, int], ...]]] = [{}, {}]
        for fold, forms in enumerate(building):
            while forms:
                key, slot = forms.popitem()
                self._forms[fold][key] = tuple(slot.items())
        self._longest = max((len(f) for f in self._forms[1]), default=0)

    # -- the forms of one agency

    def core(self, name: str) -> str:
        """The name without the roster's shared place prefix (沙坡头区卫生健康局 → 卫生健康局)."""
        n = norm(name)
        for prefix in self.prefixes:
            if n.startswith(prefix) and len(n) - len(prefix) >= MIN_FORM:
                return n[len(prefix):]
        return n

    def _agency_forms(self, name: str, aliases: Sequence[str]) -> dict[str, int]:
        forms: dict[str, int] = {}

        def add(form: str, rank: int) -> None:
            if len(form) >= MIN_FORM and rank < forms.get(form, SHORT + 1):
                forms[form] = rank

        full, core = norm(name), self.core(name)
        add(full, PRIMARY)
        add(core, PRIMARY)
        bases = [core] + [norm(a) for a in aliases]
        for a in bases[1:]:
            add(a, PRIMARY)
        for base in bases:
            for v in self._variants(base):
                add(v, VARIANT)
        for form in list(forms):
            for ending in self.data.optional_endings:
                if form.endswith(ending):
                    short = form[: -len(ending)]
                    if short not in self.data.never_short:
                        add(short, SHORT)
                    break
        return forms

    def _variants(self, base: str) -> set[str]:
        out = {base}
        # no member of any group in the name (found by one search in C): no group changes it, as
        # variants come only from the name and its variants
        for group, pattern in self._abbreviations if self._any_abbreviation.search(base) else ():
            for s in list(out):
                if pattern.search(s) is None:  # none of the group in s (the usual case), found in C
                    continue
                found = max((m for m in group if m and m in s), key=len, default=None)
                if found is None:
                    continue
                for alt in group:
                    if len(out) < MAX_VARIANTS:
                        out.add(s.replace(found, alt, 1))
        for group in self.data.endings:
            for s in list(out):
                found = max((m for m in group if s.endswith(m)), key=len, default=None)
                if found is not None:
                    out.update(s[: -len(found)] + alt for alt in group)
        return out

    # -- lookups

    def identity(self, name: str) -> NameMatch:
        """The agency a workbook's own agency name means: the same name (width and spaces aside),
        case kept first, then ignoring case; then (loose) a name equal to one of an agency's
        forms other than a short one, e.g. without the place prefix."""
        if not norm(name):
            return NO_MATCH
        for fold in (0, 1):
            found = self._exact[fold].get(norm(name, bool(fold)), [])
            if len(found) == 1:
                return NameMatch(found[0])
            if len(found) > 1:
                return NameMatch(None, tuple(found))
        for fold in (0, 1):
            for key in (norm(name, bool(fold)), norm(self.core(name), bool(fold))):
                slot = {i: r for i, r in self._forms[fold].get(key, ()) if r < SHORT}
                if slot:
                    best = min(slot.values())
                    found = sorted(i for i, r in slot.items() if r == best)
                    return NameMatch(found[0], loose=True) if len(found) == 1 else NameMatch(None, tuple(found))
        return NO_MATCH

    def filename(self, display: str, skip: bool = False) -> NameMatch:
        """The agency a file's path names: its own name first, then its folders and archives,
        innermost first. A part naming two agencies is ambiguous (the outer parts are not asked)."""
        parts = [p for chunk in display.split("!") for p in chunk.replace("\\", "/").split("/") if p]
        if not parts or skip:
            return NO_MATCH
        for i, part in enumerate(reversed(parts)):
            stem = part.rsplit(".", 1)[0] if i == 0 and "." in part else part
            found = self.in_text(stem)
            if found.index is not None or found.ambiguous:
                return NameMatch(found.index, found.candidates, found.loose, part)
        return NO_MATCH

    def in_text(self, text: str) -> NameMatch:
        for fold in (0, 1):
            t = norm(text, bool(fold))
            hits = self._hits(t, fold)
            if not hits:
                continue
            agencies = sorted({i for _, _, i, _ in hits})
            if len(agencies) > 1:
                return NameMatch(None, tuple(agencies))
            i = agencies[0]
            exact = any(t[s:e] == norm(self.names[i], bool(fold)) for s, e, j, _ in hits if j == i)
            return NameMatch(i, loose=not exact or bool(fold))
        return NO_MATCH

    def _hits(self, t: str, fold: int) -> list[tuple[int, int, int, int]]:
        forms = self._forms[fold]
        hits: list[tuple[int, int, int, int]] = []  # (start, end, agency, rank)
        for s in range(len(t)):
            for e in range(s + MIN_FORM, min(len(t), s + self._longest) + 1):
                for i, rank in forms.get(t[s:e], ()):
                    if rank == SHORT and not self._short_ok(t, e):
                        continue
                    if s and t[s:e] != self._exact_name(i, fold) and self._other_place(t[:s], fold):
                        continue
                    hits.append((s, e, i, rank))
        # the best rank per span; a span inside a longer span of another agency does not count
        best: dict[tuple[int, int], int] = {}
        for s, e, _, rank in hits:
            best[(s, e)] = min(rank, best.get((s, e), rank))
        hits = [h for h in hits if h[3] == best[(h[0], h[1])]]
        return [h for h in hits if not any(o[2] != h[2] and o[0] <= h[0] and h[1] <= o[1] and (o[0], o[1]) != (h[0], h[1])
                                          for o in hits)]

    def _exact_name(self, i: int, fold: int) -> str:
        return norm(self.names[i], bool(fold))

    def _other_place(self, before: str, fold: int) -> bool:
        """Whether a place other than the roster's own stands right before a form found without
        it: 其他区教育局.xls is not this district's 教育局 (中卫市青山区卫健局 is)."""
        m = self._place_before.search(before)
        if m is None:
            return False
        place = m.group(0)
        own = [norm(p, bool(fold)) for p in self.prefixes]
        return not any(place.endswith(p) or p.endswith(place) for p in own)

    def _short_ok(self, t: str, end: int) -> bool:
        rest = t[end:]
        return not rest or not _is_cjk(rest[0]) or rest.startswith(self.data.after_short)


def region_prefixes(names: Sequence[str], data: NameData | None = None) -> list[str]:
    """Place prefixes shared by at least half of the names (and two of them), longest first:
    ["中卫市沙坡头区", "沙坡头区", ...]. A one-agency roster: its own leading place name."""
    data = data or name_data()
    ending = "|".join(re.escape(e) for e in data.region_endings)
    token = re.compile(rf"[^\W\d_]{{2,10}}?(?:{ending})")
    counts: dict[str, int] = {}
    for name in names:
        n, pos, seen = norm(name), 0, set()
        while (m := token.match(n, pos)) and m.end() < len(n):
            pos = m.end()
            if n[:pos] not in seen:
                seen.add(n[:pos])
                counts[n[:pos]] = counts.get(n[:pos], 0) + 1
            if len(seen) >= 3:
                break
    need = 1 if len(names) == 1 else max(2, (len(names) + 1) // 2)
    return sorted((p for p, k in counts.items() if k >= need), key=len, reverse=True)


__all__ = ["NO_MATCH", "NameData", "NameMatch", "NameMatcher", "name_data", "norm", "region_prefixes",
           "split_aliases"]
