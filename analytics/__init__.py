"""Outcrop analytics: scheduled jobs, rollups, pricing and reports."""
