"""Outcrop collector: receivers, normalisation, the store and the CLI."""
