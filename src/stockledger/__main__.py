"""Allows `python -m stockledger`."""

from stockledger.cli import main

main()
