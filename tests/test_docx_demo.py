"""The demo's Word stage (xlsx_tools.cli.demo.docx.stage_docx)."""

from __future__ import annotations

import io

import docx
import pytest
from rich.console import Console

from xlsx_tools.cli.demo import samples
from xlsx_tools.cli.demo.docx import stage_docx
from xlsx_tools.cli.demo.run import DemoContext
from xlsx_tools.format.spec import load_format
from xlsx_tools.write import office

NAME = "沙坡头区政务服务中心2021年政府信息公开工作年度报告"


def context(tmp_path) -> tuple[DemoContext, io.StringIO]:
    out = io.StringIO()
    ctx = DemoContext(outdir=tmp_path, console=Console(file=out, width=200), spec=load_format(), year=2021,
                      password="pw-123456")
    return ctx, out


def test_stage_docx_without_libreoffice(tmp_path, monkeypatch):
    monkeypatch.setenv(office.ENV_SOFFICE, "")
    ctx, out = context(tmp_path)
    stage_docx(ctx)
    assert ctx.results["docx"] == tmp_path / f"{NAME}.docx"
    assert "pdf" not in ctx.results
    assert ctx.written == [(tmp_path / f"{NAME}.docx", "沙坡头区政务服务中心 2021 年度报告（公文格式 Word）")]
    assert "未安装 LibreOffice，跳过 PDF。" in out.getvalue()
    assert docx.Document(str(ctx.results["docx"])).paragraphs[0].text.startswith("沙坡头区政务服务中心")


def test_stage_docx_uses_a_report_left_by_an_earlier_stage(tmp_path, monkeypatch):
    monkeypatch.setenv(office.ENV_SOFFICE, "")
    ctx, _ = context(tmp_path)
    report = samples.sample_report()
    report.agency.name = "前一阶段读回的机关"
    ctx.results["sample_report"] = report
    stage_docx(ctx)
    assert ctx.results["docx"].name == "前一阶段读回的机关2021年政府信息公开工作年度报告.docx"


@pytest.mark.libreoffice
@pytest.mark.skipif(office.find_soffice() is None, reason="LibreOffice (soffice) 未安装，跳过真实办公软件测试")
def test_stage_docx_with_libreoffice_writes_the_pdf(tmp_path):
    ctx, _ = context(tmp_path)
    stage_docx(ctx)
    pdf = ctx.results["pdf"]
    assert pdf == tmp_path / f"{NAME}.pdf" and pdf.read_bytes()[:5] == b"%PDF-"
    assert [what for _, what in ctx.written][-1] == "同一报告的 PDF（LibreOffice 转换）"
