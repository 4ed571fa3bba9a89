"""`xlsx-tools demo`: run the yearly cycle on the bundled example."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..console import console


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        output: Annotated[Path, typer.Option("--output", "-o", help="输出文件夹。")] = Path("xlsx-tools-demo"),
    ) -> None:
        """用内置示例（沙坡头区政务服务中心 2021 年度报告）演示：生成模板、按名单批量生成。"""
        from ..demo import run_demo

        raise typer.Exit(run_demo(output, console))
