"""Shim so that `python cli.py ...` runs the same app as the `xlsx-tools` console script."""

from xlsx_tools.cli.app import main

if __name__ == "__main__":
    main()
