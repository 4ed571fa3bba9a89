"""xlsx-tools: the yearly cycle of the 政府信息公开工作年度报告 — locked Excel templates, reading and
checking the returns, collecting a roster, and the report in official 公文 format."""

__version__ = "0.1.0"
