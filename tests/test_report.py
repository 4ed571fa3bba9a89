"""The Report and its JSON, a public interface: exact keys, header paths, exact decimals, and a
lossless round trip."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlsx_tools.cli.demo.samples import sample_report
from xlsx_tools.format.spec import load_format
from xlsx_tools.model.report import (
    JSON_KEYS,
    Agency,
    Provenance,
    Report,
    dumps,
    loads,
    narrative_from_parts,
)

SPEC = load_format()


def test_json_keys_and_figure_shape():
    r = sample_report()
    data = json.loads(r.to_json())
    assert list(data)[:6] == list(JSON_KEYS)
    assert data["format"] == "gov-info-2021"
    assert data["agency"] == {"name": "沙坡头区政务服务中心", "code": ""}
    assert data["year"] == 2021
    fig = next(f for f in data["figures"] if f["id"] == "t3.withheld.state_secret.natural_person")
    assert fig == {
        "id": "t3.withheld.state_secret.natural_person", "table": "三",
        "row": ["三、本年度办理结果", "（三）不予公开", "1.属于国家秘密"], "column": ["申请人情况", "自然人"],
        "sheet": "表三", "cell": "D8", "input": True, "value": 0,
    }
    t4 = next(f for f in data["figures"] if f["id"] == "t4.suit_direct.upheld")
    assert t4["column"] == ["行政诉讼", "未经复议直接起诉", "结果维持"] and t4["row"] == []
    t2 = next(f for f in data["figures"] if f["id"] == "t2.item1.rules.issued")
    assert (t2["row"], t2["column"], t2["table"]) == (["第二十条第（一）项", "规章"], ["本年制发件数"], "二")
    total = next(f for f in data["figures"] if f["id"] == "t3.results_total.total")
    assert total["input"] is False and total["cell"] == "J27"
    assert len(data["figures"]) == len(SPEC.fields) == 200


def test_decimal_fee_is_written_exactly():
    r = Report.blank("某局", 2025)
    r.figures["t2.item8.fees.amount"] = Decimal("26.55")
    text = r.to_json()
    assert '"value": 26.55' in text
    back = Report.from_json(text)
    assert back.figures["t2.item8.fees.amount"] == Decimal("26.55")
    assert isinstance(back.figures["t2.item8.fees.amount"], Decimal)
    assert loads(dumps({"x": Decimal("0.0001")})) == {"x": Decimal("0.0001")}


amounts = st.decimals(min_value=0, max_value=10**6, places=4, allow_nan=False, allow_infinity=False)
counts = st.one_of(st.none(), st.integers(min_value=0, max_value=10**6))
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    data=st.data(),
    name=text.filter(str.strip),
    year=st.integers(2000, 2100),
    narrative=st.dictionaries(st.sampled_from(["overview", "problems", "other"]), text),
)
def test_json_round_trip_is_lossless(data, name, year, narrative):
    figures = {
        f.id: data.draw(amounts if f.type.kind == "decimal" else counts, label=f.id) for f in SPEC.fields
    }
    r = Report(
        format=SPEC.id, agency=Agency(name, "C-1"), year=year,
        contact={"phone": "0955-8597620", "email": "a@b.cn"}, figures=figures, narrative=narrative,
        provenance=Provenance(source="x.xlsx", sha256="ab" * 32, application="LibreOffice"),
    )
    assert Report.from_json(r.to_json()) == r


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.pop("figures"), "缺少键：figures"),
        (lambda d: d["figures"].append({"id": "t9.nothing", "value": 1}), "不属于格式"),
        (lambda d: d["figures"][0].update(value=True), "数值不正确"),
    ],
)
def test_bad_json_is_refused_with_a_message(mutate, message):
    d = json.loads(sample_report().to_json())
    mutate(d)
    with pytest.raises(ValueError, match=message):
        Report.from_dict(d)


def test_with_computed_recomputes_totals():
    r = Report.blank("某局", 2025)
    r.figures.update({f.id: 0 for f in SPEC.input_fields})
    r.figures["t3.granted.commercial"] = 4
    r.figures["t3.results_total.total"] = 99  # stale
    c = r.with_computed()
    assert c.figures["t3.results_total.total"] == 4 and c.figures["t3.granted.total"] == 4
    assert r.figures["t3.results_total.total"] == 99  # the original is untouched


def test_narrative_from_parts_adds_customary_subheads():
    parts = {
        "overview.intro": "综述。", "overview.active": "主动公开了若干信息。",
        "overview.on_request": "（二）规范依申请公开。全年未收到申请。", "problems.text": "问题一。\n问题二。",
    }
    n = narrative_from_parts(SPEC, parts)
    assert n["overview"].split("\n") == ["综述。", "（一）主动公开。主动公开了若干信息。", "（二）规范依申请公开。全年未收到申请。"]
    assert n["problems"] == "问题一。\n问题二。" and "other" not in n
