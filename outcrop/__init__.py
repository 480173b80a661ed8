"""Outcrop: observability and cost attribution for LLM applications on Amazon Bedrock.

The floors are subpackages of this one — `outcrop.core`, `outcrop.collector`,
`outcrop.analytics`, and `outcrop.sql` for the statements — so an install claims one
import name. The checkout keeps them as the top-level folders `core/`, `collector/`,
`analytics/` and `sql/`; the links of those names in this folder make the same imports
work from a checkout, and the wheel maps each folder to its name (pyproject's package-dir).
"""
