"""`xlsx-tools demo`: run the yearly cycle on the bundled example."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..console import console
from ..demo.run import run_demo


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        output: Annotated[Path, typer.Option("--output", "-o", metavar="文件夹", help="输出文件夹。")] = Path("xlsx-tools-demo"),
    ) -> None:
        """用内置示例演示一年的完整流程：生成模板 → 填写与校验 → Word 报告 → 收集与汇总。

        1. 生成模板：为示例机关（沙坡头区政务服务中心 2021 年度）生成锁定的填报模板，并按示例名单批量生成一批模板和 manifest.csv（template）。
        2. 填写与校验：像机关一样填写模板两次（一份无误，一份带常见错误），逐一校验并列出问题所在的工作表、单元格和行列名称（check）。
        3. Word 报告：把无误的一份生成公文格式的 Word 年度报告；装有 LibreOffice 时同时生成 PDF（docx）。
        4. 收集与汇总：模拟各机关退回的文件（含重复提交、损坏文件、压缩包，一个机关未提交），按名单收集校验，生成收集情况.xlsx、collect.json、有错误或警告机关的问题通知和合格机关的 Word 报告（collect），再把各机关的数字汇总成一份（aggregate）。

        全部文件写入输出文件夹（默认 xlsx-tools-demo），最后列出写了哪些文件；可以反复运行。"""
        raise typer.Exit(run_demo(output, console))
