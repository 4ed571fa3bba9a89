"""checks says a value type the way the format file names it (types.*.noun), not as the code
would: a variant format with other nouns gets its own words in the messages."""

from __future__ import annotations

from decimal import Decimal

from xlsx_tools.checks import domain_problem
from xlsx_tools.format.spec import load_format, load_format_file, templates_dir


def test_nouns_come_from_the_format_file(tmp_path):
    text = (templates_dir() / "gov-info-2021.toml").read_text(encoding="utf-8")
    assert text.count('noun = "件数"') == 1 and text.count('noun = "金额"') == 1
    variant = tmp_path / "variant.toml"
    variant.write_text(text.replace('noun = "件数"', 'noun = "数量"').replace('noun = "金额"', 'noun = "费用"'),
                       encoding="utf-8")
    spec = load_format_file(variant)
    count = next(f for f in spec.input_fields if f.type.kind == "integer")
    amount = next(f for f in spec.input_fields if f.type.kind == "decimal")
    assert "数量不能为负数" in domain_problem(count, -1)[1]
    assert "（费用上限为" in domain_problem(amount, Decimal(10) ** 9)[1]


def test_the_official_format_says_counts_and_fees():
    spec = load_format()
    count = next(f for f in spec.input_fields if f.type.kind == "integer")
    amount = next(f for f in spec.input_fields if f.type.kind == "decimal")
    assert domain_problem(count, -1)[1] == "填写了负数 -1，件数不能为负数，请改正（没有的填 0）。"
    assert domain_problem(amount, Decimal(10) ** 9)[1] == "填写了 1000000000，数字过大（金额上限为 100000000 万元），请核对。"
