"""The one owner of the DuckDB file: writer thread, migrations, read-only checks and bounds."""
