"""Helpers for scripts that xlsx_tools.write.office.run_uno runs under the UNO Python (with
``scripts_dir=tests/uno_scripts``).

This module runs outside our package (Debian's /usr/bin/python3 has neither xlsx_tools nor
openpyxl), so it may import only the standard library and ``uno``. Scripts reach it as
``import _bridge`` because run_uno puts this directory on PYTHONPATH.
"""

import os
import sys
import time

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException

ENV_CONNECT = "XLSX_TOOLS_UNO_CONNECT"
XLSX_FILTER = "Calc MS Excel 2007 XML"


def props(**values):
    """A tuple of PropertyValue, the argument shape most UNO calls take."""
    out = []
    for name, value in values.items():
        prop = PropertyValue()
        prop.Name = name
        prop.Value = value
        out.append(prop)
    return tuple(out)


def url(path):
    return uno.systemPathToFileUrl(os.path.abspath(path))


def connect(connection=None, timeout=30.0):
    """Connect to the soffice run_uno started; return (ctx, smgr, desktop).

    soffice needs a few seconds to open its socket, so connecting is retried until ``timeout``.
    """
    connection = connection or os.environ.get(ENV_CONNECT)
    if not connection:
        raise SystemExit(
            f"{ENV_CONNECT} is not set: run this script through xlsx_tools.write.office.run_uno"
        )
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            ctx = resolver.resolve(connection)
            break
        except NoConnectException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)
    smgr = ctx.ServiceManager
    desktop = smgr.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    return ctx, smgr, desktop


def load(desktop, path, hidden=True):
    """Open ``path`` read-write (never stored back to ``path``), without any dialog."""
    doc = desktop.loadComponentFromURL(
        url(path),
        "_blank",
        0,
        props(Hidden=hidden, ReadOnly=False, MacroExecutionMode=0, UpdateDocMode=0),
    )
    if doc is None:
        raise RuntimeError(f"LibreOffice could not open {path}")
    return doc


def store_xlsx(doc, path):
    """Save a copy of ``doc`` as .xlsx at ``path``; the document keeps its own location."""
    doc.storeToURL(url(path), props(FilterName=XLSX_FILTER, Overwrite=True))


def close(doc):
    try:
        doc.close(True)
    except Exception as exc:  # a failed close must not hide the script's real result
        print(f"warning: closing document failed: {exc}", file=sys.stderr)
