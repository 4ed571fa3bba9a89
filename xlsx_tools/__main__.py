"""`python -m xlsx_tools ...` runs the same app as the `xlsx-tools` console script."""

from xlsx_tools.cli import main

main()
