"""Cases of the bad-input corpus about files and folders (FIFOs, symlinks, odd names, permissions,
archives of archives), rosters, report JSON, --narrative files and output paths that point at an
input. Registered into tests/corpus_cases.CASES on import."""

from __future__ import annotations

import json
import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from tests import corpus_zip as cz
from tests import reader_fixtures as fx
from tests.corpus_cases import (
    AGENCY,
    EXIT_CHECK,
    YEAR,
    Cmd,
    Ctx,
    case,
    collect_cmd,
    deflate_cache,
    file_case,
    standard,
)

NOBODY = 65534
ERR_OR_USAGE = (1, 2)

# ---------------------------------------------------------------------------------------------
# Files that are not regular, names that are not polite, folders that loop


def _fifo_case(ctx: Ctx) -> list[Cmd]:
    fifo = ctx.inp / f"{AGENCY}.xlsx"
    os.mkfifo(fifo)
    cmds = [Cmd(n, argv, ERR_OR_USAGE, 10) for n, argv in (
        ("check", ["check", str(fifo)]),
        ("export", ["export", str(fifo), "-o", str(ctx.out / "export")]),
        ("aggregate", ["aggregate", str(fifo), "-o", str(ctx.out / "agg" / "汇总.xlsx"), "--agency", "汇总",
                       "--year", str(YEAR), "--jobs", "1"]),
        ("docx", ["docx", str(fifo), "-o", str(ctx.out / "docx")]),
    )]
    return cmds + [collect_cmd(ctx, "collect-dir", ctx.inp, timeout=10)]


case("fs/fifo-as-workbook", _fifo_case)


def _fifo_roster(ctx: Ctx) -> list[Cmd]:
    fx.write_filled(ctx.inp / "a.xlsx")
    roster = ctx.aux / "roster.csv"
    os.mkfifo(roster)
    return [collect_cmd(ctx, "collect", ctx.inp, roster=roster, codes=(2,), timeout=10),
            Cmd("template", ["template", "--roster", str(roster), "--year", str(YEAR), "-o", str(ctx.out / "tpl")], (2,), 10)]


case("fs/fifo-as-roster", _fifo_roster)


def _fifo_previous(ctx: Ctx) -> list[Cmd]:
    fx.write_filled(ctx.inp / "a.xlsx")
    prev = ctx.aux / "prev"
    prev.mkdir()
    os.mkfifo(prev / "2020.json")
    os.mkfifo(prev / "2020.xlsx")
    return [Cmd("check --previous", ["check", str(ctx.inp / "a.xlsx"), "--previous", str(prev / "2020.json")], (2,), 10),
            collect_cmd(ctx, "collect --previous", ctx.inp, extra=["--previous", str(prev)], timeout=10)]


case("fs/fifo-as-previous", _fifo_previous)


def _symlinked_root(ctx: Ctx) -> list[Cmd]:
    real = ctx.aux / "real"
    real.mkdir()
    fx.write_filled(real / "a.xlsx")
    link = ctx.aux / "returns-link"
    link.symlink_to(real, target_is_directory=True)
    return [collect_cmd(ctx, "collect", link, codes=(0,), listed=["a.xlsx"])]


case("fs/symlinked-root", _symlinked_root)


def _symlink_loops(ctx: Ctx) -> list[Cmd]:
    fx.write_filled(ctx.inp / "a.xlsx")
    (ctx.inp / "self").symlink_to(".", target_is_directory=True)
    (ctx.inp / "up").symlink_to("..", target_is_directory=True)
    (ctx.inp / "x.xlsx").symlink_to("y.xlsx")
    (ctx.inp / "y.xlsx").symlink_to("x.xlsx")
    (ctx.inp / "passwd.xlsx").symlink_to("/etc/passwd")
    (ctx.inp / "dangling.xlsx").symlink_to("/nonexistent/file.xlsx")
    return [collect_cmd(ctx, "collect", ctx.inp, codes=(0,)),
            Cmd("check loop", ["check", str(ctx.inp / "x.xlsx")], ERR_OR_USAGE),
            Cmd("check dangling", ["check", str(ctx.inp / "dangling.xlsx")], (2,)),
            Cmd("export loop", ["export", str(ctx.inp / "x.xlsx"), "-o", str(ctx.out / "export")], ERR_OR_USAGE),
            Cmd("aggregate folder with loops", ["aggregate", str(ctx.inp), "-o", str(ctx.out / "agg" / "汇总.json"),
                                                "--agency", "汇总", "--year", str(YEAR), "--jobs", "1"], (0,))]


case("fs/symlink-loops", _symlink_loops)


def _many_members(ctx: Ctx) -> list[Cmd]:
    empty_zip = cz.build([])
    entries = [cz.Entry(f"回收/{i:05d}.{'xlsx' if i % 2 else 'txt'}", empty_zip if i % 2 else b"x", method=cz.STORED)
               for i in range(10_000)]
    path = ctx.inp / "returns.zip"
    path.write_bytes(cz.build(entries))
    return standard(ctx, path, bad=True, aggregate=True, docx=False, timeout=20)


case("fs/zip-10000-members", _many_members, weight=8)


def _nested(depth: int) -> Callable[[Ctx, Path], bytes]:
    def make(ctx: Ctx, dst: Path) -> bytes:
        data = ctx.base().read_bytes()
        name = "a.xlsx"
        for i in range(depth):
            data = fx.zip_bytes({name: data})
            name = f"level{i}.zip"
        return data
    return make


file_case("fs/zip-of-zips-6-deep", _nested(6), ".zip", bad=None)
file_case("fs/zip-of-200-zips", lambda ctx, dst: fx.zip_bytes(
    {f"z{i}.zip": fx.zip_bytes({f"m{j}.txt": b"x" for j in range(50)}) for i in range(200)}), ".zip", bad=True, weight=4,
    timeout=20)
file_case("fs/zip-bomb-in-zip", lambda ctx, dst: fx.zip_bytes({"inner.zip": cz.build([cz.Entry(
    "a.xlsx", deflate_cache(1 << 30)[0], raw=True, real_size=1 << 30, crc=deflate_cache(1 << 30)[1], declared_size=1000)])}),
    ".zip", bad=True, weight=4)
file_case("fs/zip-lying-member", lambda ctx, dst: cz.build([cz.Entry(
    "a.xlsx", deflate_cache(1 << 30)[0], raw=True, real_size=1 << 30, crc=deflate_cache(1 << 30)[1], declared_size=1000)]),
    ".zip", bad=True, weight=4)
file_case("fs/zip-unsafe-member-names", lambda ctx, dst: cz.build([
    cz.Entry("../../evil.xlsx", ctx.base().read_bytes()), cz.Entry("/etc/evil.xlsx", b"x"),
    cz.Entry("C:\\evil.xlsx", b"x"), cz.Entry(b"nul\x00byte.xlsx", b"x"), cz.Entry("a/./b/../c.xlsx", b"x"),
    cz.Entry("dup.xlsx", b"1"), cz.Entry("dup.xlsx", b"2")]), ".zip", bad=None)


def _gbk_zip(ctx: Ctx) -> list[Cmd]:
    """Member names in GBK without the UTF-8 flag, as Windows' built-in zip writes them: the
    workbook inside and a damaged one matched by its file name must both reach their agency."""
    other = "沙坡头区教育局"
    entries = [cz.Entry(f"回收/{AGENCY}.xlsx".encode("gbk"), ctx.base().read_bytes(), utf8_flag=False),
               cz.Entry(f"回收/{other}.xlsx".encode("gbk"), b"PK\x03\x04broken", utf8_flag=False)]
    (ctx.inp / "附件.zip").write_bytes(cz.build(entries))
    roster = ctx.roster([(AGENCY, fx.CODE), (other, "")])
    return [collect_cmd(ctx, "collect", ctx.inp, roster=roster,
                        listed=["附件.zip", f"附件.zip!回收/{AGENCY}.xlsx", f"附件.zip!回收/{other}.xlsx"])]


def _nobody_missing(*agencies: str) -> Callable[[Path], list[str]]:
    def post(root: Path) -> list[str]:
        problems = []
        for js in (root / "out").glob("collect*/collect.json"):
            data = json.loads(js.read_text(encoding="utf-8"))
            for a in data.get("agencies", []):
                if a.get("agency", a.get("name")) in agencies and a.get("status") == "未提交":
                    problems.append(f"{js.parent.name}: {a.get('agency', a.get('name'))} is 未提交 although its file is there")
        return problems
    return post


case("fs/zip-gbk-member-names", _gbk_zip, post=_nobody_missing(AGENCY, "沙坡头区教育局"))


def _odd_names(ctx: Ctx) -> list[Cmd]:
    names = ["测试\n换行.xlsx", "回车\r.xlsx", "\x1b[31m红色\x1b[0m.xlsx", "反向\u202excod.xlsx", "-o.xlsx",
             " 前后空格 .xlsx", "引号\"'`$(rm -rf).xlsx", "长" * 70 + ".xlsx", "制表\t符.xlsx"]
    paths = []
    for n in names:
        paths.append(fx.write_filled(ctx.inp / n))
    bad = os.fsdecode(b"\xff\xfe\xc3(.xlsx")
    paths.append(fx.write_filled(ctx.inp / bad))
    cmds = [collect_cmd(ctx, "collect", ctx.inp, docx=True)]
    for i, p in enumerate(paths):
        cmds.append(Cmd(f"check #{i}", ["check", str(p)], (0,)))
    cmds.append(Cmd("check all --json", ["check", "--json", *map(str, paths)], (0,)))
    cmds.append(Cmd("export invalid-utf8", ["export", str(paths[-1]), "-o", str(ctx.out / "export")], (0,)))
    cmds.append(Cmd("docx invalid-utf8", ["docx", str(paths[-1]), "-o", str(ctx.out / "docx")], (0,)))
    cmds.append(Cmd("aggregate all", ["aggregate", str(ctx.inp), "-o", str(ctx.out / "agg" / "汇总.xlsx"), "--agency", "汇总",
                                      "--year", str(YEAR), "--jobs", "1"], (0,)))
    return cmds


case("fs/odd-file-names", _odd_names, weight=2)


def _dir_named_xlsx(ctx: Ctx) -> list[Cmd]:
    d = ctx.inp / f"{AGENCY}.xlsx"
    d.mkdir()
    fx.write_filled(d / "inside.xlsx")
    return [Cmd("check", ["check", str(d)], (2,)), Cmd("export", ["export", str(d)], (2,)),
            Cmd("docx", ["docx", str(d), "-o", str(ctx.out / "docx")], (2,)),
            collect_cmd(ctx, "collect", ctx.inp, codes=(0,))]


case("fs/folder-named-xlsx", _dir_named_xlsx)


def _deep_folders(ctx: Ctx) -> list[Cmd]:
    d = ctx.inp
    for i in range(120):
        d = d / f"d{i}"
    d.mkdir(parents=True)
    fx.write_filled(d / "a.xlsx")
    return [collect_cmd(ctx, "collect", ctx.inp, codes=(0,)), Cmd("check", ["check", str(d / "a.xlsx")], (0,))]


case("fs/120-nested-folders", _deep_folders)


def _system_and_outputs(ctx: Ctx) -> list[Cmd]:
    fx.write_filled(ctx.inp / "a.xlsx")
    for n in ("Thumbs.db", "desktop.ini", ".DS_Store", "~$a.xlsx", ".~lock.a.xlsx#", "._a.xlsx"):
        (ctx.inp / n).write_bytes(b"\x00junk")
    (ctx.inp / "__MACOSX").mkdir()
    (ctx.inp / "__MACOSX" / "._a.xlsx").write_bytes(b"\x00")
    (ctx.inp / "collect.json").write_text('{"tool": "xlsx-tools collect", "files": "not a list"}')
    (ctx.inp / "收集情况.xlsx").write_bytes(b"PK\x03\x04")
    return [collect_cmd(ctx, "collect", ctx.inp, codes=(0,))]


case("fs/system-files-and-fake-outputs", _system_and_outputs)


def _unreadable(ctx: Ctx) -> list[Cmd]:
    """Mode 000 files and folders. The tests run as root, whom file modes do not stop, so these
    commands run as `nobody` (uid 65534) for the modes to mean something."""
    good = fx.write_filled(ctx.inp / "a.xlsx")
    locked = fx.write_filled(ctx.inp / "锁定.xlsx")
    sub = ctx.inp / "子文件夹"
    sub.mkdir()
    fx.write_filled(sub / "b.xlsx")
    os.chmod(locked, 0)
    os.chmod(sub, 0)
    for d in [ctx.root, ctx.inp, ctx.aux, ctx.root / "cwd"]:
        os.chmod(d, 0o755)
    for d in [ctx.out, *ctx.out.iterdir()]:
        os.chmod(d, 0o777)
    os.chmod(ctx.roster(), 0o644)
    cmds = [collect_cmd(ctx, "collect", ctx.inp, listed=["a.xlsx", "子文件夹/", "锁定.xlsx"]),
            Cmd("check", ["check", str(locked)], ERR_OR_USAGE),
            Cmd("export", ["export", str(locked), "-o", str(ctx.out / "export")], ERR_OR_USAGE),
            Cmd("docx", ["docx", str(locked), "-o", str(ctx.out / "docx")], ERR_OR_USAGE),
            Cmd("aggregate", ["aggregate", str(ctx.inp), "-o", str(ctx.out / "agg" / "汇总.json"), "--agency", "汇总",
                              "--year", str(YEAR), "--jobs", "1"], EXIT_CHECK),
            Cmd("export into read-only folder", ["export", str(good), "-o", str(ctx.aux / "x.json")], (1, 2))]
    for c in cmds:
        c.user = NOBODY
    return cmds


case("fs/unreadable-as-nobody", _unreadable)

# ---------------------------------------------------------------------------------------------
# Rosters


def _roster_bytes(data: bytes, *, template: bool = True, codes=(2,), name: str = "roster.csv",
                  returns: Callable[[Ctx], None] | None = None) -> Callable[[Ctx], list[Cmd]]:
    def build(ctx: Ctx) -> list[Cmd]:
        roster = ctx.aux / name
        roster.write_bytes(data)
        if returns:
            returns(ctx)
        else:
            fx.write_filled(ctx.inp / "a.xlsx")
        cmds = [collect_cmd(ctx, "collect", ctx.inp, roster=roster, codes=codes)]
        if template:
            cmds.append(Cmd("template", ["template", "--roster", str(roster), "--year", str(YEAR), "-o",
                                         str(ctx.out / "tpl")], codes if codes != EXIT_CHECK else (0, 2)))
        return cmds
    return build


case("roster/empty", _roster_bytes(b""))
case("roster/header-only", _roster_bytes("机关名称,机关代码\n".encode()))
case("roster/mixed-encoding", _roster_bytes("机关名称,机关代码\n".encode("gbk") + "测试市测试局,T-001\n沙坡头区教育局,\n".encode()))
case("roster/is-xlsx", _roster_bytes(b"PK\x03\x04" + b"\x00" * 100))
case("roster/nul-bytes", _roster_bytes("机关名称\n测试\x00局\n".encode(), codes=(1, 2)))
case("roster/200k-field", _roster_bytes("机关名称,备注\n测试市测试局,".encode() + b"x" * 200_000 + b"\n", codes=(1, 2)))
case("roster/binary-garbage", _roster_bytes(bytes(range(256)) * 40))
case("roster/newline-in-name", _roster_bytes('机关名称\n"测试\n局"\n'.encode(), codes=(0, 1, 2)))
case("roster/utf16-no-bom", _roster_bytes("机关名称\n测试局\n".encode("utf-16-le"), codes=(1, 2)))


def _roster_dir(ctx: Ctx) -> list[Cmd]:
    fx.write_filled(ctx.inp / "a.xlsx")
    d = ctx.aux / "名单"
    d.mkdir()
    return [collect_cmd(ctx, "collect", ctx.inp, roster=d, codes=(2,)),
            Cmd("template", ["template", "--roster", str(d), "--year", str(YEAR), "-o", str(ctx.out / "tpl")], (2,))]


case("roster/is-a-folder", _roster_dir)

INJECTIONS = ['=HYPERLINK("http://example.invalid/?x","点此")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3+cmd|' /C calc'!A0",
              "\t=1+2", "=1+1"]
_FORMULA_HINTS = ("HYPERLINK", "cmd|", "SUM(1+1)", "1+1", "2+3")


def _no_live_formulas(root: Path) -> list[str]:
    """Every CSV cell we wrote starts with something harmless, and no workbook we wrote holds one
    of the roster's texts as a formula."""
    problems = []
    for p in (root / "out").rglob("*.csv"):
        import csv

        with open(p, encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                        problems.append(f"{p.name}: a cell starts with {cell[:1]!r}: {cell[:40]!r}")
    for p in (root / "out").rglob("*.xlsx"):
        with zipfile.ZipFile(p) as z:
            for n in z.namelist():
                if n.startswith("xl/worksheets/") and n.endswith(".xml"):
                    for f in re.findall(rb"<f[^>]*>([^<]*)</f>", z.read(n)):
                        if any(h.encode() in f for h in _FORMULA_HINTS):
                            problems.append(f"{p.name}!{n}: a roster text written as a formula: {f[:60]!r}")
    return problems


def _injection(ctx: Ctx) -> list[Cmd]:
    roster = ctx.roster([(AGENCY, fx.CODE)] + [(t, t) for t in INJECTIONS])
    fx.write_filled(ctx.inp / "a.xlsx")
    fx.write_filled(ctx.inp / "b.xlsx", agency=INJECTIONS[0], code=INJECTIONS[1])
    return [Cmd("template", ["template", "--roster", str(roster), "--year", str(YEAR), "-o", str(ctx.out / "tpl")], (0,)),
            collect_cmd(ctx, "collect", ctx.inp, roster=roster, docx=True),
            Cmd("aggregate", ["aggregate", str(ctx.inp), "-o", str(ctx.out / "agg" / "汇总.xlsx"), "--agency", INJECTIONS[0],
                              "--year", str(YEAR), "--jobs", "1"], (0,))]


case("roster/csv-formula-injection", _injection, post=_no_live_formulas)

RESERVED = ["CON", "nul", "AUX.局", "COM1", "LPT1.报告", "名称以点结尾.", "斜/杠\\局", 'a<b>c:d"e|f?g*h局', "PRN ", "com9"]
_WIN_ILLEGAL = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_WIN_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$", re.I)


def _windows_safe(expect_docx: int | None = None) -> Callable[[Path], list[str]]:
    def post(root: Path) -> list[str]:
        problems = []
        for p in (root / "out").rglob("*"):
            n = p.name
            if _WIN_ILLEGAL.search(n) or _WIN_RESERVED.match(n) or n.endswith((".", " ")):
                problems.append(f"written a file name Windows cannot hold: {str(p.relative_to(root))!r}")
        for js in (root / "out").glob("collect*/collect.json"):
            data = json.loads(js.read_text(encoding="utf-8"))
            accepted = [a for a in data.get("agencies", []) if a.get("status") in ("合格", "有警告")]
            docs = list((js.parent / "年度报告").glob("*.docx")) if (js.parent / "年度报告").is_dir() else []
            if len(docs) != len(accepted):
                problems.append(f"{js.parent.name}: {len(accepted)} agencies accepted but {len(docs)} .docx written")
        tpl = root / "out" / "tpl"
        if tpl.is_dir() and expect_docx is not None:
            n = len(list(tpl.glob("*.xlsx")))
            if n != expect_docx:
                problems.append(f"template --roster: {expect_docx} agencies but {n} workbooks")
        return problems
    return post


def _named_agencies(names: list[str]) -> Callable[[Ctx], list[Cmd]]:
    def build(ctx: Ctx) -> list[Cmd]:
        roster = ctx.roster([(n, f"C{i:02d}") for i, n in enumerate(names)])
        for i, n in enumerate(names):
            fx.write_filled(ctx.inp / f"{i:02d}.xlsx", agency=n, code=f"C{i:02d}")
        return [Cmd("template", ["template", "--roster", str(roster), "--year", str(YEAR), "-o", str(ctx.out / "tpl")], (0,)),
                collect_cmd(ctx, "collect", ctx.inp, roster=roster, docx=True, codes=(0,))]
    return build


case("names/windows-reserved", _named_agencies(RESERVED), post=_windows_safe(len(RESERVED)))
COLLIDING = ["ABC局", "abc局", "Abc局", "a/b局", "a\\b局", "a:b局", "a*b局", "名" * 200 + "甲", "名" * 200 + "乙"]
case("names/colliding-file-names", _named_agencies(COLLIDING), post=_windows_safe(len(COLLIDING)))


def _case_only_by_filename(ctx: Ctx) -> list[Cmd]:
    """Files without a readable identity, named after agencies that differ only in case."""
    roster = ctx.roster([("ABC局", ""), ("abc局", "")])
    (ctx.inp / "ABC局.xlsx").write_bytes(b"PK\x03\x04broken")
    (ctx.inp / "abc局.xlsx").write_bytes(b"PK\x03\x04broken")
    return [collect_cmd(ctx, "collect", ctx.inp, roster=roster)]


case("names/case-only-by-file-name", _case_only_by_filename, post=_nobody_missing("ABC局", "abc局"))


def _big_roster(ctx: Ctx) -> list[Cmd]:
    roster = ctx.roster([(AGENCY, fx.CODE)] + [(f"第{i}号机关", f"N{i}") for i in range(3000)])
    fx.write_filled(ctx.inp / "a.xlsx")
    return [collect_cmd(ctx, "collect", ctx.inp, roster=roster, timeout=10)]


case("roster/3000-agencies", _big_roster, weight=3)

# ---------------------------------------------------------------------------------------------
# Report JSON (export/aggregate output; input of aggregate, docx and --previous)


def _report_json(ctx: Ctx) -> str:
    return fx.report().to_json()


def _json_case(name: str, make: Callable[[str], bytes | str], **kw) -> None:
    def build(ctx: Ctx) -> list[Cmd]:
        data = make(_report_json(ctx))
        if isinstance(data, str):
            data = data.encode("utf-8")
        path = ctx.inp / "上年报告.json"
        path.write_bytes(data)
        prev = ctx.aux / "prev"
        prev.mkdir()
        (prev / "上年报告.json").write_bytes(data)
        good = ctx.base()
        return [
            Cmd("check", ["check", str(path)], ERR_OR_USAGE),
            Cmd("aggregate", ["aggregate", str(path), "-o", str(ctx.out / "agg" / "汇总.xlsx"), "--agency", "汇总",
                              "--year", str(YEAR), "--include-errors", "--jobs", "1"], (0, 1, 2)),
            Cmd("aggregate -o json", ["aggregate", str(path), "-o", str(ctx.out / "agg" / "汇总.json"), "--agency", "汇总",
                                      "--year", str(YEAR), "--include-errors", "--jobs", "1"], (0, 1, 2)),
            Cmd("docx", ["docx", str(path), "-o", str(ctx.out / "docx"), "--force"], (0, 1, 2)),
            Cmd("check --previous", ["check", str(good), "--previous", str(path)], (0, 1, 2)),
            collect_cmd(ctx, "collect-dir", ctx.inp),
            collect_cmd(ctx, "collect --previous", ctx.zips, extra=["--previous", str(prev)], listed=[]),
        ]
    case(f"json/{name}", build, **kw)


def _figure_value(value: str) -> Callable[[str], str]:
    def make(text: str) -> str:
        # the first figure's value, then a fee's
        text = re.sub(r'("value": )[^,}\n]+', lambda m: m.group(1) + value, text, count=1)
        return re.sub(r'("id": "t2\.item8\.fees\.amount"[^}]*?"value": )[^,}\n]+', lambda m: m.group(1) + value, text, count=1)
    return make


for _key, _value in {"nan": "NaN", "infinity": "Infinity", "-infinity": "-Infinity", "1e5000": "1e5000",
                     "5000-digit-int": "9" * 5000, "string": '"5"', "bool": "true", "object": '{"a": 1}',
                     "negative": "-5", "fraction": "2.5", "1e-400": "1e-400", "1e30": "1E+30",
                     "list": "[1, 2]"}.items():
    _json_case(f"value-{_key}", _figure_value(_value))
_json_case("nested-100000", lambda t: "[" * 100_000 + "]" * 100_000)
_json_case("nested-in-figures", lambda t: t.replace('"figures": [', '"figures": [' + '{"x":' * 50000 + "1" + "}" * 50000 + ",", 1))
_json_case("empty", lambda t: b"")
_json_case("null", lambda t: "null")
_json_case("array", lambda t: "[" + t + "]")
_json_case("bom", lambda t: b"\xef\xbb\xbf" + t.encode())
_json_case("utf16", lambda t: t.encode("utf-16"))
_json_case("invalid-utf8", lambda t: t.encode().replace("测试".encode(), b"\xff\xfe", 1))
_json_case("truncated", lambda t: t[: len(t) // 2])
_json_case("figures-object", lambda t: re.sub(r'"figures": \[.*\]', '"figures": {"a": 1}', t, count=1, flags=re.S))
_json_case("no-figures", lambda t: re.sub(r',\s*"figures": \[.*?\n  \]', "", t, count=1, flags=re.S))
_json_case("format-path", lambda t: t.replace('"gov-info-2021"', '"../../../../etc/passwd"', 1))
_json_case("format-other", lambda t: t.replace('"gov-info-2021"', '"gov-info-2018"', 1))
_json_case("year-huge", lambda t: re.sub(r'"year": \d+', '"year": 1e400', t, count=1))
_json_case("year-text", lambda t: re.sub(r'"year": \d+', '"year": "二〇二一"', t, count=1))
_json_case("duplicate-keys", lambda t: t.replace('"year":', '"year": 1900, "year":', 1))
_json_case("unknown-figure-ids", lambda t: t.replace('"id": "t', '"id": "zz', 5))
_json_case("30MB", lambda t: t[:-2] + ', "padding": "' + "x" * (30 << 20) + '"}', weight=2)

# ---------------------------------------------------------------------------------------------
# --narrative files


def _narrative_case(name: str, make: Callable[[Ctx, Path], bytes | None], suffix: str = ".txt", *,
                    codes=(0, 2), timeout: float = 20, **kw) -> None:
    def build(ctx: Ctx) -> list[Cmd]:
        path = ctx.aux / f"文字材料{suffix}"
        data = make(ctx, path)
        if data is not None:
            path.write_bytes(data)
        return [Cmd("docx --narrative", ["docx", str(ctx.base()), "--narrative", str(path), "-o", str(ctx.out / "docx")],
                    codes, timeout)]
    case(f"narrative/{name}", build, **kw)


def _docx_with(document_xml: bytes) -> bytes:
    import io

    src = fx.docx_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, document_xml if info.filename == "word/document.xml" else zin.read(info))
    return out.getvalue()


def _docx_paragraphs(texts: list[str]) -> bytes:
    from xml.sax.saxutils import escape

    body = "".join(f"<w:p><w:r><w:t>{escape(t)}</w:t></w:r></w:p>" for t in texts)
    return _docx_with(('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                       '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                       f"<w:body>{body}</w:body></w:document>").encode())


SECTIONS = ["一、总体情况", "五、存在的主要问题及改进情况", "六、其他需要报告的事项"]
_narrative_case("control-chars-txt", lambda c, p: "\n".join(
    [SECTIONS[0], "控制\x01字符\x0b垂直制表\x0c换页\x1b转义\x00空。", SECTIONS[1], "问题\x07。"]).encode())
_narrative_case("control-chars-md", lambda c, p: f"# {SECTIONS[0]}\n\n正文\x02\x03。\n\n# {SECTIONS[1]}\n\n问题。\n".encode(), ".md")
_narrative_case("80k-paragraphs-txt", lambda c, p: "\n".join(
    [SECTIONS[0]] + [f"第{i}段：本机关依法公开政府信息。" for i in range(80000)] + [SECTIONS[1], "问题。"]).encode(),
    timeout=15, weight=4)
_narrative_case("80k-paragraphs-docx", lambda c, p: _docx_paragraphs(
    [SECTIONS[0]] + [f"第{i}段。" for i in range(80000)] + [SECTIONS[1], "问题。"]), ".docx", timeout=15, weight=4)
_narrative_case("docx-lying-size-1GiB", lambda c, p: cz.rebuild(
    _write(p, fx.docx_bytes()), p, replace={"word/document.xml": cz.Entry(
        "word/document.xml", deflate_cache(1 << 30)[0], raw=True, real_size=1 << 30, crc=deflate_cache(1 << 30)[1],
        declared_size=2000)}) and None, ".docx", weight=4)
_narrative_case("docx-ratio-bomb", lambda c, p: cz.rebuild(
    _write(p, fx.docx_bytes()), p, replace={"word/document.xml": cz.Entry(
        "word/document.xml", deflate_cache(1 << 30)[0], raw=True, real_size=1 << 30, crc=deflate_cache(1 << 30)[1])})
    and None, ".docx", weight=4)
_narrative_case("docx-billion-laughs", lambda c, p: _docx_with(fx.BILLION_LAUGHS.replace(b"sst", b"w:document")), ".docx")
_narrative_case("docx-really-xlsx", lambda c, p: c.base().read_bytes(), ".docx")
_narrative_case("docx-truncated", lambda c, p: fx.docx_bytes()[:500], ".docx")
_narrative_case("txt-invalid-utf8", lambda c, p: SECTIONS[0].encode() + b"\n\xff\xfe\xfd\n")
_narrative_case("txt-gbk", lambda c, p: "\n".join([SECTIONS[0], "国标编码的正文。"]).encode("gbk"))
_narrative_case("txt-empty", lambda c, p: b"")
_narrative_case("txt-10MB-line", lambda c, p: (SECTIONS[0] + "\n" + "长" * (3 << 20)).encode(), weight=2)
_narrative_case("unknown-suffix", lambda c, p: b"text", ".pdf")


def _narrative_special(ctx: Ctx, path: Path) -> None:
    os.mkfifo(path)


_narrative_case("fifo", _narrative_special, timeout=10)
_narrative_case("folder", lambda c, p: p.mkdir() and None)


def _write(p: Path, data: bytes) -> Path:
    p.write_bytes(data)
    return p


# ---------------------------------------------------------------------------------------------
# Outputs aimed at inputs (exit 2, input unchanged)


def _onto_inputs(ctx: Ctx) -> list[Cmd]:
    a = fx.write_filled(ctx.inp / "a.xlsx")
    b = fx.write_filled(ctx.inp / "b.xlsx", agency="另一个局", code="T-002")
    js = ctx.aux / "a.json"
    js.write_text(fx.report().to_json(), encoding="utf-8")
    narrative = _write(ctx.aux / "文字材料.docx", _docx_paragraphs([SECTIONS[0], "正文。"]))
    roster = ctx.roster()
    link = ctx.aux / "link.json"
    link.symlink_to(a)
    agg = ["--agency", "汇总", "--year", str(YEAR), "--jobs", "1"]
    return [
        Cmd("aggregate -o its xlsx input", ["aggregate", str(a), str(b), "-o", str(a), *agg], (2,)),
        Cmd("aggregate -o its json input", ["aggregate", str(js), "-o", str(js), *agg], (2,)),
        Cmd("aggregate -o a file of its input folder", ["aggregate", str(ctx.inp), "-o", str(b), *agg], (2,)),
        Cmd("aggregate -o a symlink to its input", ["aggregate", str(a), "-o", str(link), *agg], (2,)),
        Cmd("export -o its input", ["export", str(a), "-o", str(a)], (2,)),
        Cmd("export -o a symlink to its input", ["export", str(a), "-o", str(link)], (2,)),
        Cmd("docx -o its narrative", ["docx", str(a), "--narrative", str(narrative), "-o", str(narrative)], (2,)),
        Cmd("docx -o its json input", ["docx", str(js), "-o", str(js)], (2,)),
        Cmd("collect -o the roster", ["collect", str(ctx.inp), "--roster", str(roster), "-o", str(roster), "--jobs", "1"], (2,)),
        Cmd("collect -o an input file", ["collect", str(ctx.inp), "--roster", str(roster), "-o", str(a), "--jobs", "1"], (2,)),
        Cmd("template -o the roster", ["template", "--roster", str(roster), "--year", str(YEAR), "-o", str(roster)], (2,)),
    ]


case("output/onto-inputs", _onto_inputs)


def _odd_options(ctx: Ctx) -> list[Cmd]:
    a = fx.write_filled(ctx.inp / "a.xlsx")
    roster = ctx.roster()
    return [
        Cmd("check --year huge", ["check", str(a), "--year", "9" * 40], (0, 1, 2)),
        Cmd("aggregate --year -1", ["aggregate", str(a), "-o", str(ctx.out / "agg" / "x.json"), "--agency", "x", "--year", "-1",
                                    "--jobs", "1"], (1, 2)),
        Cmd("aggregate --agency control chars", ["aggregate", str(a), "-o", str(ctx.out / "agg" / "y.xlsx"), "--agency",
                                                 "汇\x00总\x1b", "--year", str(YEAR), "--jobs", "1"], (0, 2)),
        Cmd("docx --date nonsense", ["docx", str(a), "-o", str(ctx.out / "docx"), "--date", "2022年13月45日"], (2,)),
        Cmd("docx --date huge", ["docx", str(a), "-o", str(ctx.out / "docx"), "--date", "99999999999年1月1日"], (2,)),
        Cmd("check same file twice", ["check", str(a), str(a)], (0,)),
        Cmd("check --previous itself", ["check", str(a), "--previous", str(a)], (0, 1, 2)),
        Cmd("collect --jobs 0", ["collect", str(ctx.inp), "--roster", str(roster), "-o", str(ctx.out / "c"), "--jobs", "0"], (2,)),
        Cmd("collect --year huge", ["collect", str(ctx.inp), "--roster", str(roster), "-o", str(ctx.out / "c2"), "--jobs", "1",
                                    "--year", "9" * 30], (1, 2)),
    ]


case("usage/odd-option-values", _odd_options)
