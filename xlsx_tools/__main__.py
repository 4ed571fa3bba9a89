"""`python -m xlsx_tools ...` runs the same app as the `xlsx-tools` console script."""

from .cli.app import main

main()
