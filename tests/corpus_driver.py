"""Runs the commands of bad-input corpus cases (tests/test_corpus.py) in a process of its own.

    python3 tests/corpus_driver.py [WARM_UP_CASE_DIR]      (then one case folder per line on stdin)

The driver imports the command line once (a lean process: what `xlsx-tools` itself loads), then
for each case folder whose inputs tests/test_corpus.py has built and whose commands it has written
to cmd/commands.json: snapshots every input (names, types, sha256), runs each command in a forked
child (stdout/stderr to files, TMPDIR inside the case, an empty working directory, RLIMIT_AS),
takes the child's peak RSS from os.wait4, kills a command that has used its timeout in CPU seconds
or sleeps without progress (BLOCKED_SECONDS) with its process group (the commands after it are then not run: the case has failed already, and this keeps
a hanging case cheap), snapshots the inputs again and writes result.json.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import signal
import stat
import sys
import time
import traceback
from pathlib import Path

MEMORY_CAP = 1536 << 20  # RLIMIT_AS of the driver and every command
# A command is stopped when it has used its timeout in CPU seconds (wall time means little on a
# machine shared with other work), when it sleeps without using any CPU for BLOCKED_SECONDS (a
# read that never returns: a FIFO), or after WALL_SECONDS in any case.
BLOCKED_SECONDS = 5.0
WALL_SECONDS = 300.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
ROOT = Path(__file__).resolve().parent.parent


def snapshot(root: Path, skip: tuple[str, ...] = ("out", "tmp", "result.json", "cmd")) -> dict[str, str]:
    """Every path under root (outputs excepted) with what it is: the sha256 of a regular file, the
    target of a symlink, the mode of anything else. FIFOs and devices are never opened."""
    found: dict[str, str] = {}

    def visit(folder: Path, rel: str) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as e:
            found[rel or "."] = f"unlistable {e.errno}"
            return
        for entry in entries:
            name = f"{rel}/{entry.name}" if rel else entry.name
            if not rel and entry.name in skip:
                continue
            st = os.lstat(entry.path)
            if stat.S_ISLNK(st.st_mode):
                found[name] = "link " + os.readlink(entry.path)
            elif stat.S_ISDIR(st.st_mode):
                found[name] = f"dir {stat.S_IMODE(st.st_mode):o}"
                visit(Path(entry.path), name)
            elif stat.S_ISREG(st.st_mode):
                h = hashlib.sha256()
                with open(entry.path, "rb") as fh:
                    while chunk := fh.read(1 << 22):
                        h.update(chunk)
                found[name] = f"file {stat.S_IMODE(st.st_mode):o} {h.hexdigest()}"
            else:
                found[name] = f"special {st.st_mode:o}"

    visit(root, "")
    return found


def _jsonable(key: str) -> str:
    return key.encode("utf-8", "backslashreplace").decode("utf-8")


def forked(fn, *, stdout: Path, stderr: Path, timeout: float, cwd: Path | None = None,
           tmp: Path | None = None, user: int | None = None) -> dict:
    """Run fn() in a forked child; its exit status, wall and CPU time, peak RSS (KiB) and, if it
    was killed, why (see BLOCKED_SECONDS)."""
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 70
        try:
            os.setpgid(0, 0)
            for fd, path in ((1, stdout), (2, stderr)):
                target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
                os.dup2(target, fd)
                os.close(target)
            if tmp is not None:
                import tempfile

                os.environ["TMPDIR"] = str(tmp)
                tempfile.tempdir = str(tmp)
            if user is not None:
                os.setgroups([])
                os.setgid(user)
                os.setuid(user)
            if cwd is not None:
                os.chdir(cwd)
            code = fn()
            code = 0 if code is None else code
        except SystemExit as e:
            if e.code is None:
                code = 0
            elif isinstance(e.code, int):
                code = e.code
            else:
                print(e.code, file=sys.stderr)
                code = 1
        except BaseException:  # what a user would see from the real command: a traceback
            traceback.print_exc()
            code = 70
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            except BaseException:
                pass
            os._exit(code if isinstance(code, int) and 0 <= code < 256 else 70)
    timed_out = None
    delay = 0.002
    last_cpu, last_change = 0.0, start
    while True:
        wpid, status, usage = os.wait4(pid, os.WNOHANG)
        if wpid:
            break
        now = time.monotonic()
        state, cpu = _proc_state(pid)
        if cpu > last_cpu:
            last_cpu, last_change = cpu, now
        if cpu > timeout:
            timed_out = f"used more than {timeout} s of CPU"
        elif state in ("S", "T", "t") and now - last_change > BLOCKED_SECONDS:
            timed_out = f"blocked (state {state}, no CPU used for {BLOCKED_SECONDS} s)"
        elif now - start > WALL_SECONDS:
            timed_out = f"still running after {WALL_SECONDS} s"
        if timed_out:
            for target in (-pid, pid):
                try:
                    os.kill(target, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            _, status, usage = os.wait4(pid, 0)
            break
        time.sleep(delay)
        delay = min(0.05, delay * 2)
    seconds = time.monotonic() - start
    if os.WIFSIGNALED(status):
        code = -os.WTERMSIG(status)
    else:
        code = os.WEXITSTATUS(status)
    return {"code": code, "seconds": round(seconds, 3), "cpu": round(usage.ru_utime + usage.ru_stime, 3),
            "maxrss_kb": usage.ru_maxrss, "timed_out": timed_out}


def _proc_state(pid: int) -> tuple[str, float]:
    """The scheduler state (R running or runnable, S sleeping, D disk, ...) and CPU seconds used
    of a live process, from /proc."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
    except OSError:
        return "?", 0.0
    return fields[0].decode(), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


PRELOAD = ("xlsx_tools.cli.app", "xlsx_tools.read.reader", "xlsx_tools.checks", "xlsx_tools.cli.render", "xlsx_tools.collect.run",
           "xlsx_tools.collect.workbook", "xlsx_tools.collect.aggregate", "xlsx_tools.write.docx_report", "xlsx_tools.read.narrative",
           "xlsx_tools.read.roster", "xlsx_tools.write.template", "xlsx_tools.cli.charts", "rich.progress", "docx", "xlsxwriter")


def run_case(case_dir: Path, cli) -> None:
    """Run the commands of case_dir/cmd/commands.json; write case_dir/result.json."""
    commands = json.loads((case_dir / "cmd" / "commands.json").read_text())
    result: dict = {"commands": [], "before": {_jsonable(k): v for k, v in snapshot(case_dir).items()}}
    tmp = case_dir / "tmp"
    hung = None
    for i, cmd in enumerate(commands):
        record = dict(cmd)
        record["stdout"] = str(case_dir / "cmd" / f"{i}.out")
        record["stderr"] = str(case_dir / "cmd" / f"{i}.err")
        if hung is not None:
            record.update(skipped=f"not run: 「{hung}」 did not finish")
            result["commands"].append(record)
            continue
        tmp.mkdir(exist_ok=True)
        os.chmod(tmp, 0o1777)
        argv = cmd["argv"]
        record.update(forked(lambda argv=argv: cli.main(list(argv)), stdout=Path(record["stdout"]),
                             stderr=Path(record["stderr"]), timeout=cmd["timeout"], cwd=case_dir / "cwd",
                             tmp=tmp, user=cmd.get("user")))
        record["tmp_leftovers"] = sorted(p.name for p in tmp.iterdir())
        shutil.rmtree(tmp, ignore_errors=True)
        if record["timed_out"]:
            hung = cmd["name"]
        result["commands"].append(record)
    result["after"] = {_jsonable(k): v for k, v in snapshot(case_dir).items()}
    (case_dir / "result.json").write_text(json.dumps(result, ensure_ascii=True))


def warm_up(case_dir: Path, cli) -> None:
    """Run a good case's commands once in this process, output discarded, so that what every
    command pays only on its first call (building the Click commands, indexing the format file,
    the fonts of the Word writer) is not paid again in each forked child."""
    import tempfile

    saved = [os.dup(1), os.dup(2)]
    null = os.open(os.devnull, os.O_WRONLY)
    here = os.getcwd()
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        (case_dir / "tmp").mkdir(exist_ok=True)
        tempfile.tempdir = str(case_dir / "tmp")
        os.chdir(case_dir / "cwd")
        for cmd in json.loads((case_dir / "cmd" / "commands.json").read_text()):
            try:
                cli.main(list(cmd["argv"]))
            except BaseException:  # noqa: BLE001 - warming up only
                pass
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, null):
            os.close(fd)
        os.chdir(here)
        tempfile.tempdir = None
        import gc

        gc.collect()


def main(warm: Path | None = None) -> None:
    """Serve cases: one case folder per line on stdin, "done" on stdout when its result is written."""
    import importlib

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
    sys.path.insert(0, str(ROOT))
    for name in PRELOAD:
        importlib.import_module(name)
    from xlsx_tools.cli import app as cli
    from xlsx_tools.format.spec import load_format

    load_format()
    if warm is not None:
        warm_up(warm, cli)
    print("ready", flush=True)
    for line in sys.stdin:
        case_dir = Path(line.rstrip("\n"))
        try:
            run_case(case_dir, cli)
            print("done", flush=True)
        except Exception:
            print("error " + json.dumps(traceback.format_exc()), flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
