"""The one module that talks to a real LibreOffice: headless conversion and UNO scripts.

Everything here runs LibreOffice in a child process with a throw-away user profile, so parallel
runs never share state and the user's own LibreOffice settings play no part. The UNO scripts
are the tests' (``tests/uno_scripts/``, passed as ``scripts_dir``) and run under the interpreter
that has ``uno`` (on Debian the system ``/usr/bin/python3``, not the one this package is
installed in); the package itself only converts (``convert``, for ``docx --pdf``).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "ENV_SOFFICE",
    "ENV_UNO_CONNECT",
    "ENV_UNO_PYTHON",
    "FONTCONFIG_FILE",
    "OfficeError",
    "OfficeTimeout",
    "OfficeUnavailable",
    "convert",
    "find_soffice",
    "find_uno_python",
    "make_profile",
    "run_uno",
]

ENV_SOFFICE = "XLSX_TOOLS_SOFFICE"
ENV_UNO_PYTHON = "XLSX_TOOLS_UNO_PYTHON"
ENV_UNO_CONNECT = "XLSX_TOOLS_UNO_CONNECT"

_HERE = Path(__file__).resolve().parent
FONTCONFIG_FILE = _HERE / "fonts.conf"

_SOFFICE_CANDIDATES = ("/usr/bin/soffice", "/usr/lib/libreoffice/program/soffice")
_UNO_PYTHON_CANDIDATES = ("/usr/bin/python3", "/usr/lib/libreoffice/program/python")

_INSTALL_HINT = "请安装 LibreOffice 后重试（Debian/Ubuntu: apt-get install libreoffice-writer libreoffice-calc）。"
_UNO_HINT = (
    "请安装 LibreOffice 的 Python 接口后重试（Debian/Ubuntu: apt-get install python3-uno），"
    f"或用环境变量 {ENV_UNO_PYTHON} 指定能 import uno 的 Python。"
)

# Seconds soffice gets to quit when asked (through UNO, then SIGTERM) before it is killed.
_SHUTDOWN_GRACE = 10


class OfficeError(RuntimeError):
    """LibreOffice ran but did not do what was asked; the message is Chinese and user-facing."""


class OfficeUnavailable(OfficeError):
    """LibreOffice (or its Python-UNO bridge) is not installed or cannot be found."""


class OfficeTimeout(OfficeError):
    """LibreOffice did not finish in time; its processes have been killed."""


# --------------------------------------------------------------------------- discovery


def find_soffice() -> str | None:
    """Path of the LibreOffice ``soffice`` launcher, or None.

    ``$XLSX_TOOLS_SOFFICE`` wins when set (a path or a command name); set to a path that does
    not exist, it makes LibreOffice count as absent, which is how tests simulate that case.
    """
    configured = os.environ.get(ENV_SOFFICE)
    if configured is not None:
        return shutil.which(configured) if configured.strip() else None
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    for candidate in _SOFFICE_CANDIDATES:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def find_uno_python() -> str | None:
    """A Python interpreter in which ``import uno`` works, or None.

    Tries Debian's system Python, then the Python bundled with LibreOffice's own builds; each
    candidate is checked once per process by really importing uno. ``$XLSX_TOOLS_UNO_PYTHON``,
    when set, is the only candidate considered.
    """
    configured = os.environ.get(ENV_UNO_PYTHON)
    candidates = [configured] if configured is not None else list(_UNO_PYTHON_CANDIDATES)
    for candidate in candidates:
        path = shutil.which(candidate) if candidate.strip() else None
        if path and _imports_uno(path):
            return path
    return None


@functools.cache
def _imports_uno(python: str) -> bool:
    try:
        done = subprocess.run(
            [python, "-c", "import uno"],
            env=_child_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def _require_soffice(purpose: str) -> str:
    soffice = find_soffice()
    if soffice is None:
        raise OfficeUnavailable(f"未找到 LibreOffice（soffice），无法{purpose}。{_INSTALL_HINT}")
    return soffice


def _require_uno_python(purpose: str) -> str:
    python = find_uno_python()
    if python is None:
        raise OfficeUnavailable(
            f"未找到可以使用 LibreOffice 接口（uno）的 Python，无法{purpose}。{_UNO_HINT}"
        )
    return python


# --------------------------------------------------------------------------- profile

# Settings written into every throw-away profile. OOXMLRecalcMode/ODFRecalcMode = 0 means "always
# recalculate on load": Debian's default (1, "never") would show whatever result the file cached,
# and a workbook written by xlsxwriter or tampered with by hand may cache anything.
_PROFILE_SETTINGS: tuple[tuple[str, str, str], ...] = (
    ("/org.openoffice.Office.Calc/Formula/Load", "OOXMLRecalcMode", "{recalc}"),
    ("/org.openoffice.Office.Calc/Formula/Load", "ODFRecalcMode", "{recalc}"),
    ("/org.openoffice.Setup/Office", "ooSetupInstCompleted", "true"),
    ("/org.openoffice.Office.Common/Misc", "FirstRun", "false"),
    ("/org.openoffice.Office.Common/Misc", "ShowTipOfTheDay", "false"),
    ("/org.openoffice.Office.Common/Misc", "CrashReport", "false"),
    # No lock files next to the user's inputs: they must stay untouched.
    ("/org.openoffice.Office.Common/Misc", "UseLocking", "false"),
    ("/org.openoffice.Office.Common/Misc", "UseDocumentOOoLockFile", "false"),
    ("/org.openoffice.Office.Common/Misc", "UseDocumentSystemFileLocking", "false"),
    ("/org.openoffice.Office.Common/Save/Document", "WarnAlienFormat", "false"),
    ("/org.openoffice.Office.Recovery/AutoSave", "Enabled", "false"),
    ("/org.openoffice.Office.Recovery/AutoSave", "UserAutoSaveEnabled", "false"),
    ("/org.openoffice.Office.Recovery/RecoveryInfo", "Enabled", "false"),
    ("/org.openoffice.Office.Recovery/SessionShutdown", "DocumentStoreUIEnabled", "false"),
)


def make_profile(dir: str | os.PathLike[str], *, recalc_on_load: bool = True) -> Path:
    """Write a fresh LibreOffice user profile into ``dir`` and return ``dir`` as a Path.

    Pass it to soffice as ``-env:UserInstallation=<dir as file URL>``; see ``_soffice_cmd``.
    ``recalc_on_load=False`` keeps LibreOffice's "never recalculate" default instead; it exists
    so tests can show that the setting matters.
    """
    recalc = "0" if recalc_on_load else "1"
    root = Path(dir)
    user = root / "user"
    user.mkdir(parents=True, exist_ok=True)
    items = "\n".join(
        f'<item oor:path="{path}"><prop oor:name="{name}" oor:op="fuse">'
        f"<value>{value.format(recalc=recalc)}</value></prop></item>"
        for path, name, value in _PROFILE_SETTINGS
    )
    (user / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<oor:items xmlns:oor="http://openoffice.org/2001/registry"'
        ' xmlns:xs="http://www.w3.org/2001/XMLSchema"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        f"{items}\n</oor:items>\n",
        encoding="utf-8",
    )
    return root


def _profile_url(workdir: Path) -> str:
    return (workdir / "profile").resolve().as_uri()


def _soffice_cmd(soffice: str, workdir: Path) -> list[str]:
    """soffice, headless, with a fresh profile in ``workdir/profile`` and no dialogs."""
    make_profile(workdir / "profile")
    return [
        soffice,
        f"-env:UserInstallation={_profile_url(workdir)}",
        "--headless",
        "--invisible",
        "--nologo",
        "--nodefault",
        "--norestore",
        "--nolockcheck",
    ]


# --------------------------------------------------------------------------- processes


def _child_env(**extra: str) -> dict[str, str]:
    """Environment for LibreOffice and the UNO Python.

    Our own interpreter's PYTHONHOME/PYTHONPATH (pyenv, virtualenvs) must not leak into the
    system Python or LibreOffice's embedded one. Children with no locale at all treat paths
    and output as ASCII, so a UTF-8 locale is supplied when none is set.
    """
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "PYTHONPATH")}
    if not any(env.get(k) for k in ("LC_ALL", "LC_CTYPE", "LANG")):
        env["LANG"] = "C.UTF-8"
    env["FONTCONFIG_FILE"] = str(FONTCONFIG_FILE)
    env.update(extra)
    return env


def _kill_group(proc: subprocess.Popen[str] | subprocess.Popen[bytes], grace: float = 0) -> None:
    """Stop ``proc`` and everything in its process group (soffice forks soffice.bin).

    With ``grace`` the group first gets SIGTERM and that many seconds to exit by itself.
    """
    if grace and proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
    # Even when the launcher has exited, soffice.bin may live on in its group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def _run(
    cmd: list[str], *, env: dict[str, str], timeout: float, what: str, budget: float | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` in its own process group; on timeout kill the whole group.

    ``budget`` is the time limit the caller was given, named in the message (default ``timeout``).
    """
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        proc.communicate()
        raise OfficeTimeout(
            f"LibreOffice {what}超时（超过 {budget or timeout:g} 秒），已强制结束。"
            "文件可能过大或已损坏；也可能有其他 LibreOffice 进程卡住，请结束后重试。"
        ) from None
    finally:
        # soffice.bin can outlive a launcher that exited; never leave one behind.
        _kill_group(proc)
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)


def _remove_ipc_pipe(workdir: Path) -> None:
    """Remove the IPC socket a killed (or unluckily timed) soffice left in /tmp.

    soffice names it /tmp/OSL_PIPE_<uid>_SingleOfficeIPC_<md5 of the profile URL as UTF-16LE,
    each byte in unpadded hex> (desktop/source/app/officeipcthread.cxx). Call only once that
    soffice is gone: the profile is ours alone, so no other process uses this pipe.
    """
    digest = hashlib.md5(_profile_url(workdir).encode("utf-16-le"), usedforsecurity=False)
    name = "".join(format(byte, "x") for byte in digest.digest())
    with contextlib.suppress(OSError):
        Path(f"/tmp/OSL_PIPE_{os.getuid()}_SingleOfficeIPC_{name}").unlink(missing_ok=True)


def _tail(text: str, limit: int = 800) -> str:
    text = (text or "").strip()
    return text if len(text) <= limit else "…" + text[-limit:]


# --------------------------------------------------------------------------- convert


def convert(
    src: str | os.PathLike[str],
    fmt: str,
    outdir: str | os.PathLike[str],
    *,
    timeout: float = 180,
) -> Path:
    """Convert ``src`` with ``soffice --headless --convert-to fmt`` and return the output path.

    ``fmt`` is what soffice accepts, e.g. ``"pdf"`` or ``"xlsx:Calc MS Excel 2007 XML"``; the
    output is ``outdir/<src stem>.<part before ':'>``, replacing any file of that name. ``src`` is
    never touched: LibreOffice works on a copy in a temporary directory, and the result is moved
    into ``outdir`` only when complete.
    """
    source = Path(src)
    if not source.is_file():
        raise FileNotFoundError(f"找不到要转换的文件：{source}")
    ext = fmt.split(":", 1)[0].strip().lower()
    if not ext:
        raise ValueError(f"无效的转换格式：{fmt!r}")
    target_dir = Path(outdir)
    target = target_dir / f"{source.stem}.{ext}"
    if target.resolve() == source.resolve():
        raise ValueError(f"转换结果会覆盖原文件「{source}」，请指定另一个输出目录。")
    soffice = _require_soffice(f"把「{source.name}」转换为 {ext.upper()}")
    target_dir.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="xlsx-tools-office-") as tmp:
        work = Path(tmp)
        # An ASCII name: soffice's handling of non-ASCII paths depends on the locale.
        copy = work / "in" / f"document{source.suffix.lower()}"
        copy.parent.mkdir()
        shutil.copyfile(source, copy)
        out = work / "out"
        out.mkdir()
        cmd = [*_soffice_cmd(soffice, work), "--convert-to", fmt, "--outdir", str(out), str(copy)]
        try:
            done = _run(
                cmd, env=_child_env(TMPDIR=tmp), timeout=timeout, what=f"转换「{source.name}」"
            )
        finally:
            _remove_ipc_pipe(work)
        produced = out / f"{copy.stem}.{ext}"
        # soffice reports "Error: source file could not be loaded" yet exits 0, so the
        # produced file is the only reliable sign of success.
        if not produced.is_file() or produced.stat().st_size == 0:
            raise OfficeError(
                f"LibreOffice 未能把「{source.name}」转换为 {ext.upper()}（退出码 {done.returncode}）。"
                f"请确认文件能用 Office 正常打开。LibreOffice 输出：{_tail(done.stdout + done.stderr)}"
            )
        partial = target_dir / f".{target.name}.{os.getpid()}.partial"
        try:
            shutil.copyfile(produced, partial)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    return target


# --------------------------------------------------------------------------- UNO


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _script_file(script: str, scripts_dir: Path | None) -> Iterator[Path]:
    """Resolve ``script`` (a path, a script name in ``scripts_dir``, or Python source) to a file."""
    if "\n" not in script:
        path = Path(script)
        if path.is_file():
            yield path
            return
        bundled = Path(scripts_dir or ".") / (script if script.endswith(".py") else f"{script}.py")
        if scripts_dir is not None and "/" not in script and bundled.is_file():
            yield bundled
            return
        if script.endswith(".py"):
            raise FileNotFoundError(f"找不到 UNO 脚本：{script}")
    with tempfile.TemporaryDirectory(prefix="xlsx-tools-uno-src-") as tmp:
        path = Path(tmp) / "script.py"
        path.write_text(script, encoding="utf-8")
        yield path


_SHUTDOWN_SCRIPT = """
import _bridge
_ctx, _smgr, desktop = _bridge.connect(timeout=5)
desktop.terminate()
"""


def _shutdown(office: subprocess.Popen[bytes], python: str, env: dict[str, str]) -> None:
    """Ask soffice to quit through UNO, then make sure its whole process group is gone.

    Killed by a signal, soffice leaves its IPC pipe and temp files in /tmp; terminate() does not.
    """
    if office.poll() is None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                [python, "-c", _SHUTDOWN_SCRIPT],
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=_SHUTDOWN_GRACE,
                start_new_session=True,
            )
    _kill_group(office, grace=_SHUTDOWN_GRACE)


def run_uno(
    script_path_or_source: str,
    *args: str | os.PathLike[str],
    timeout: float = 180,
    check: bool = False,
    scripts_dir: str | os.PathLike[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a Python script under the UNO Python against a headless soffice started for it.

    ``script_path_or_source`` is a path to a script, the name of a script in ``scripts_dir``
    (``"fill_xlsx"``), or Python source text. ``scripts_dir`` goes on the script's PYTHONPATH and
    should hold ``_bridge.py`` (the tests' ``tests/uno_scripts/``): the script finds the office
    through ``$XLSX_TOOLS_UNO_CONNECT`` with ``import _bridge``, and so does the shutdown. soffice is shut down afterwards; if the whole run takes longer
    than ``timeout`` seconds, both process groups are killed and OfficeTimeout is raised. With
    ``check=True`` a non-zero exit status raises OfficeError carrying the script's stderr. A
    script killed by a crash signal is run once more while half the time is left.
    """
    soffice = _require_soffice("启动 LibreOffice 处理表格")
    python = _require_uno_python("启动 LibreOffice 处理表格")
    deadline = time.monotonic() + timeout
    done = _run_uno_once(soffice, python, script_path_or_source, args, deadline, timeout, scripts_dir)
    if done.returncode in _CRASHES and deadline - time.monotonic() > timeout / 2:
        # LibreOffice's Python bridge now and then dies of a signal on a loaded machine (seen:
        # SIGSEGV in a run that passes alone); the scripts are idempotent, so run once more.
        done = _run_uno_once(soffice, python, script_path_or_source, args, deadline, timeout,
                             scripts_dir)
    if check and done.returncode != 0:
        label = "内联脚本" if "\n" in script_path_or_source else Path(script_path_or_source).name
        raise OfficeError(
            f"LibreOffice 脚本（{label}）执行失败（退出码 {done.returncode}）："
            f"{_tail(done.stderr or done.stdout)}"
        )
    return done


_CRASHES = (-signal.SIGSEGV, -signal.SIGABRT, -signal.SIGBUS)


def _run_uno_once(soffice, python, script_path_or_source, args, deadline, timeout, scripts_dir):
    with (
        _script_file(script_path_or_source, scripts_dir and Path(scripts_dir)) as script,
        tempfile.TemporaryDirectory(prefix="xlsx-tools-uno-") as tmp,
    ):
        accept = f"socket,host=127.0.0.1,port={_free_port()};urp;StarOffice.ComponentContext"
        script_env = _child_env(
            **{
                ENV_UNO_CONNECT: f"uno:{accept}",
                # The scripts import only _bridge, the stdlib and uno: the UNO Python does not
                # have this package (or openpyxl) installed.
                "PYTHONPATH": os.fspath(scripts_dir or ""),
                "PYTHONIOENCODING": "utf-8",
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        )
        office = subprocess.Popen(
            [*_soffice_cmd(soffice, Path(tmp)), f"--accept={accept}"],
            # soffice's own temporary files go into our directory and vanish with it.
            env=_child_env(TMPDIR=tmp),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            done = _run(
                [python, str(script), *map(os.fspath, args)],
                env=script_env,
                timeout=max(1.0, deadline - time.monotonic()),
                what="处理表格",
                budget=timeout,
            )
        finally:
            _shutdown(office, python, script_env)
            _remove_ipc_pipe(Path(tmp))
    return done
