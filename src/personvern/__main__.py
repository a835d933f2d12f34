"""`python -m personvern` runs the CLI."""

from personvern.cli import main

main()
