"""The `attrition` command line (typer)."""
