"""The bad-input corpus (issue 8, Evidence): every hostile or careless input we know of, generated
in code (tests/corpus_cases.py, tests/corpus_cases_fs.py), run through every command that takes it
(check, export, collect of a folder and of a zip, aggregate, docx ...) in a process of its own
(tests/corpus_driver.py) under a memory cap and a timeout. For every command of every case:

- it finishes within its timeout, with an exit code the README documents for it;
- its output holds no Python traceback and no Python exception name;
- its peak resident memory stays under PEAK_MB;
- it leaves nothing in TMPDIR;
- collect lists in collect.json every file it was handed (zip members included);

and for every case the inputs (every file's sha256, every name, the empty working directory) are
unchanged afterwards: nothing is written outside the output folder.

Cases run two at a time (the driver processes), the slow ones first. On failure the message names
the case, the command line and the tail of its output. CORPUS_REPORT=file appends one line per
problem to `file`; CORPUS_KEEP=1 keeps the case folders (their path is printed at the end).
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import traceback
import warnings
import zipfile
from pathlib import Path

import pytest

from tests.corpus_cases import CASES, CASES_BY_NAME, Ctx

PEAK_MB = 300
PARALLEL = 2
DRIVER = Path(__file__).with_name("corpus_driver.py")
ROOT = Path(__file__).resolve().parent.parent

_EXCEPTIONS = sorted({n for n in dir(__builtins__ if isinstance(__builtins__, dict) else __builtins__.__dict__)
                      if n.endswith(("Error", "Exception"))} | {
    "InvalidOperation", "BadZipFile", "ParseError", "DefusedXmlException", "EntitiesForbidden", "RecursionError",
    "MemoryError", "KeyboardInterrupt", "DivisionByZero", "Overflow", "XMLSyntaxError", "InvalidXmlError",
    "PackageNotFoundError", "IllegalCharacterError", "UnicodeDecodeError", "UnicodeEncodeError"})
PYTHON_LEAK = re.compile(r"Traceback \(most recent call last\)|\b(?:" + "|".join(map(re.escape, _EXCEPTIONS)) + r")\b")


class Corpus:
    """Runs the selected cases in the background: PARALLEL worker threads, each feeding a driver
    process of its own. A worker builds a case's inputs here (so building costs nothing in the
    measured processes), hands the folder to its driver and waits for the result."""

    def __init__(self, names: list[str]):
        self.root = Path(tempfile.mkdtemp(prefix="xlsx-corpus-"))
        os.chmod(self.root, 0o755)  # the `nobody` case must reach its folder
        self.futures: dict[str, cf.Future] = {n: cf.Future() for n in names}
        self.queue = sorted(names, key=lambda n: -CASES_BY_NAME[n].weight)
        self.lock = threading.Lock()
        self.drivers: list[subprocess.Popen] = []
        self.warm = self.root / "warm-up"
        self.warm.mkdir()
        ctx = Ctx.create(self.warm)
        (self.warm / "cmd").mkdir()
        commands = CASES_BY_NAME["good/filled"].build(ctx)
        (self.warm / "cmd" / "commands.json").write_text(json.dumps([c.to_json() for c in commands]))
        self.threads = [threading.Thread(target=self._work, daemon=True) for _ in range(PARALLEL)]
        for t in self.threads:
            t.start()

    def folder(self, name: str) -> Path:
        return self.root / re.sub(r"[^A-Za-z0-9._+-]", "_", name)

    def _driver(self) -> subprocess.Popen:
        env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="160", PYTHONHASHSEED="0")
        env.pop("PYTEST_CURRENT_TEST", None)
        proc = subprocess.Popen([sys.executable, str(DRIVER), str(self.warm)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, env=env, cwd=str(self.root), text=True)
        self.drivers.append(proc)
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the corpus driver did not start (exit {proc.wait()})")
        return proc

    def _work(self) -> None:
        driver = None
        while True:
            with self.lock:
                if not self.queue:
                    break
                name = self.queue.pop(0)
            future = self.futures[name]
            try:
                if driver is None or driver.poll() is not None:
                    driver = self._driver()
                future.set_result(self._run(name, driver))
            except BaseException as e:  # reported by the case's test
                future.set_result({"driver_failed": repr(e), "driver_stderr": traceback.format_exc()})
        if driver is not None and driver.poll() is None:
            driver.stdin.close()
            driver.wait()

    def _run(self, name: str, driver: subprocess.Popen) -> dict:
        folder = self.folder(name)
        folder.mkdir()
        os.chmod(folder, 0o755)
        ctx = Ctx.create(folder)
        (folder / "cmd").mkdir()
        try:
            with warnings.catch_warnings():  # xlsxwriter warns of the absurd values some cases write
                warnings.simplefilter("ignore")
                commands = CASES_BY_NAME[name].build(ctx)
        except Exception:
            return {"build_error": traceback.format_exc()}
        (folder / "cmd" / "commands.json").write_text(json.dumps([c.to_json() for c in commands]))
        driver.stdin.write(f"{folder}\n")
        driver.stdin.flush()
        line = driver.stdout.readline()
        if line.strip() != "done":
            return {"driver_failed": line.strip() or f"driver exited {driver.poll()}", "driver_stderr": line}
        return json.loads((folder / "result.json").read_text())

    def result(self, name: str) -> dict:
        return self.futures[name].result()

    def close(self) -> None:
        with self.lock:
            self.queue.clear()
        for t in self.threads:
            t.join()
        for d in self.drivers:
            if d.poll() is None:
                d.kill()
                d.wait()
        if os.environ.get("CORPUS_KEEP"):  # keep every case's inputs, outputs and result.json
            print(f"\ncorpus kept in {self.root}", file=sys.__stderr__)
            return
        for dirpath, dirnames, _ in os.walk(self.root):
            for d in dirnames:
                path = os.path.join(dirpath, d)
                if not os.path.islink(path):
                    os.chmod(path, 0o755)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="module")
def corpus(request):
    selected = [item.callspec.params["case_name"] for item in request.session.items
                if getattr(item, "originalname", None) == "test_corpus_case" and hasattr(item, "callspec")]
    c = Corpus(selected or [c.name for c in CASES])
    yield c
    c.close()


def _tail(path: str, lines: int = 25) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(line[:300] for line in text.rstrip().splitlines()[-lines:])


def _argv(cmd: dict) -> str:
    return "xlsx-tools " + " ".join(a if re.fullmatch(r"[\w./:+=-]+", a) else repr(a) for a in cmd["argv"])


def _shown(name: str) -> str:
    """A name as collect.json shows it: control characters and undecodable bytes as "?"."""
    return "".join(ch if ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF else "?" for ch in name)


def _listed_problems(cmd: dict) -> list[str]:
    """Every file handed to collect is in collect.json (a zip member may be missing only when its
    archive is listed with a reason it was not opened)."""
    if cmd.get("collect_out") is None or cmd["code"] not in (0, 1):
        return []
    js = Path(cmd["collect_out"]) / "collect.json"
    if not js.exists():
        return [f"collect exited {cmd['code']} without writing {js.name}"]
    files = json.loads(js.read_text(encoding="utf-8")).get("files", [])
    paths = {f.get("path"): f for f in files}
    problems = []
    for want in map(_shown, cmd["listed"]):
        if want in paths or want.rstrip("/") in paths:
            continue
        archive = want.split("!")[0]
        if "!" in want and archive in paths and paths[archive].get("note"):
            continue
        problems.append(f"collect.json does not list {want!r} (it lists {sorted(paths)[:8]!r}…)")
    return problems


_MARKERS = (b"@dec-", b"_x000D_", b"_x000d_")  # in a workbook _x000D_ is how Excel stores CR
_ODD_NUMBER_TEXT = re.compile(rb">\s*-?(?:NaN|Infinity|inf|sNaN|[0-9.]+E[+-]?[0-9]+)\s*<", re.I)


def _reject_constant(token: str):
    raise ValueError(token)


def output_problems(out: Path) -> list[str]:
    """What no output may hold: internal markers (an `@dec-…` number marker, an `_x000D_` escape),
    a non-finite number in JSON, NaN/Infinity or exponent notation printed in a Word document."""
    problems = []
    for p in sorted(out.rglob("*")):
        if not p.is_file() or p.suffix.lower() not in (".json", ".csv", ".xlsx", ".docx"):
            continue
        rel = p.relative_to(out).as_posix()
        try:
            if p.suffix.lower() in (".xlsx", ".docx"):
                with zipfile.ZipFile(p) as z:
                    parts = [(n, z.read(n)) for n in z.namelist() if n.endswith(".xml")]
            else:
                parts = [("", p.read_bytes())]
        except (OSError, zipfile.BadZipFile) as e:
            problems.append(f"output {rel} cannot be opened: {e}")
            continue
        for part, data in parts:
            for marker in _MARKERS if p.suffix.lower() != ".xlsx" else _MARKERS[:1]:
                if marker in data:
                    problems.append(f"output {rel} {part}: holds {marker.decode()!r}")
            if p.suffix.lower() == ".docx" and part == "word/document.xml":
                m = _ODD_NUMBER_TEXT.search(data)
                if m:
                    problems.append(f"output {rel}: prints {m.group(0).decode(errors='replace')!r}")
        if p.suffix.lower() == ".json":
            try:
                json.loads(parts[0][1], parse_constant=_reject_constant)
            except ValueError as e:
                problems.append(f"output {rel}: not plain JSON ({str(e)[:80]})")
    return problems


def check_result(name: str, res: dict, folder: Path) -> list[str]:
    """What is wrong with one case's run, each problem with the command and its output's tail."""
    if "driver_failed" in res:
        return [f"the driver failed ({res['driver_failed']}):\n{res['driver_stderr'][-3000:]}"]
    if "build_error" in res:
        return [f"building the inputs failed:\n{res['build_error']}"]
    problems = []
    for cmd in res["commands"]:
        where = f"「{cmd['name']}」 $ {_argv(cmd)}"
        if cmd.get("skipped"):
            problems.append(f"{where}\n    {cmd['skipped']}")
            continue
        found = []
        if cmd["timed_out"]:
            found.append(f"killed: {cmd['timed_out']} (a hang or a blow-up)")
        elif cmd["code"] not in cmd["codes"]:
            found.append(f"exit code {cmd['code']}, expected one of {cmd['codes']}")
        out = Path(cmd["stdout"]).read_text(encoding="utf-8", errors="replace") if Path(cmd["stdout"]).exists() else ""
        err = Path(cmd["stderr"]).read_text(encoding="utf-8", errors="replace") if Path(cmd["stderr"]).exists() else ""
        leak = PYTHON_LEAK.search(out + err)
        if leak:
            found.append(f"a Python traceback or exception name in the output ({leak.group(0)!r})")
        peak = cmd["maxrss_kb"] / 1024
        if peak > PEAK_MB:
            found.append(f"peak memory {peak:.0f} MB > {PEAK_MB} MB")
        if cmd.get("tmp_leftovers"):
            found.append(f"left files in TMPDIR: {cmd['tmp_leftovers'][:5]}")
        if not cmd["timed_out"]:
            found += _listed_problems(cmd)
        if found:
            problems.append(f"{where}\n    " + "\n    ".join(found)
                            + f"\n    ({cmd['cpu']} s CPU, {cmd['seconds']} s, {peak:.0f} MB)"
                            + "\n    --- stdout (tail) ---\n" + _indent(_tail(cmd["stdout"]))
                            + "\n    --- stderr (tail) ---\n" + _indent(_tail(cmd["stderr"])))
    problems += output_problems(folder / "out")
    before, after = res.get("before", {}), res.get("after", {})
    for path in sorted(set(before) | set(after)):
        if before.get(path) != after.get(path):
            was, now = before.get(path, "(absent)"), after.get(path, "(absent)")
            problems.append(f"an input changed or something was written outside out/: {path}: {was} → {now}")
    return problems


def _indent(text: str) -> str:
    return "\n".join("      " + line for line in text.splitlines())


def _params():
    for c in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=c.xfail)] if c.xfail else []
        yield pytest.param(c.name, id=c.name, marks=marks)


@pytest.mark.parametrize("case_name", list(_params()))
def test_corpus_case(case_name, corpus):
    res = corpus.result(case_name)
    folder = corpus.folder(case_name)
    problems = check_result(case_name, res, folder)
    post = CASES_BY_NAME[case_name].post
    if post is not None and "build_error" not in res and "driver_failed" not in res:
        problems += [f"after the commands: {p}" for p in post(folder)]
    if problems and os.environ.get("CORPUS_REPORT"):  # one line per problem, for a summary of a whole run
        with open(os.environ["CORPUS_REPORT"], "a", encoding="utf-8") as fh:
            for p in problems:
                lines = p.splitlines()
                head = lines[0].split(" $ ")[0] if " $ " in lines[0] else "-"
                symptom = lines[1].strip() if " $ " in lines[0] and len(lines) > 1 else lines[0]
                fh.write(f"{case_name}\t{head}\t{symptom[:200]}\n")
    assert not problems, f"corpus case {case_name}:\n" + "\n".join(problems)
