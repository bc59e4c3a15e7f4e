"""The `latchkey` command line (install: pip install ./cli from the repository)."""
