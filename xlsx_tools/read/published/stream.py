"""Searching a table's section for its labels, tolerantly (normalize.key), in the keyed text of
its tokens: a label may be printed whole, or in pieces with other text between them (a narrow
merged cell's lines interleave with its neighbours' in text extracted from a PDF)."""

from __future__ import annotations

from .document import TEXT, Token
from .normalize import equivalent, label_keys


class Stream:
    """The keyed text of a run of tokens, with each character's token, for label search."""

    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        chars: list[str] = []
        owner: list[int] = []
        for i, tok in enumerate(tokens):
            if tok.kind == TEXT:
                chars.append(tok.key)
                owner.extend([i] * len(tok.key))
        self.text = equivalent("".join(chars))
        self.owner = owner

    def find(self, label: str, start: int = 0, end: int | None = None) -> tuple[int, int] | None:
        """(first, last) character position of the earliest printing of `label` (canonical form
        preferred on a tie), or None."""
        best: tuple[int, int] | None = None
        for k in label_keys(label):
            if not k:
                continue
            p = self.text.find(k, start, end)
            if p >= 0 and (best is None or p < best[0]):
                best = (p, p + len(k) - 1)
        return best

    def rfind(self, label: str, start: int = 0, end: int | None = None) -> tuple[int, int] | None:
        best: tuple[int, int] | None = None
        for k in label_keys(label):
            p = self.text.rfind(k, start, end)
            if p >= 0 and (best is None or p > best[0]):
                best = (p, p + len(k) - 1)
        return best

    def token_span(self, span: tuple[int, int]) -> tuple[int, int]:
        return self.owner[span[0]], self.owner[span[1]]

    def find_pieces(self, label: str, start_token: int = 0) -> tuple[int, int] | None:
        """(first, last) token of a label printed in pieces with other text between them, as a
        narrow merged cell's lines interleave with its neighbours' in extracted PDF text
        ("4.保护第 / 三方合法 / （三）不 / 权益"): up to MAX_SKIP foreign pieces are passed over;
        figures between the pieces are passed over too. Used where find() fails."""
        tokens = self.tokens
        stop = min(len(tokens), start_token + PIECES_WINDOW)
        for k in label_keys(label):
            if len(k) < 2:
                continue
            for i in range(start_token, stop):
                t = tokens[i]
                if t.kind != TEXT:
                    continue
                end = _match_from(tokens, i, k)
                if end is not None:
                    return i, end
        return None

    def char_of(self, token: int) -> int:
        """The first character position of a token (or of the next text token)."""
        for p, owner in enumerate(self.owner):
            if owner >= token:
                return p
        return len(self.text)


MAX_SKIP = 2
PIECES_WINDOW = 3000  # tokens after the previous row's label searched for a label in pieces
MIN_FIRST_PIECE = 2


def _match_from(tokens: list[Token], i: int, k: str) -> int | None:
    """The last token of label key `k` starting in token i, pieces allowed (see find_pieces)."""
    first = equivalent(tokens[i].key)
    rest = None
    for s in range(len(first)):
        piece = first[s:]
        if k.startswith(piece) and len(piece) >= min(MIN_FIRST_PIECE, len(k)):
            rest = k[len(piece):]
            break
        if piece.startswith(k):
            return i
    if rest is None:
        return None
    if not rest:
        return i
    skips = 0
    j = i + 1
    while j < len(tokens) and rest:
        t = tokens[j]
        if t.kind == TEXT:
            piece = equivalent(t.key)
            if rest.startswith(piece):
                rest = rest[len(piece):]
            elif piece.startswith(rest):
                rest = ""
            else:
                skips += 1
                if skips > MAX_SKIP:
                    return None
        j += 1
    return j - 1 if not rest else None
