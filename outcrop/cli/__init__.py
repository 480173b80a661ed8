"""The `outcrop` command line: argparse and table formatting live here only."""
