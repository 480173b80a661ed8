"""The Settings page."""

from __future__ import annotations

import streamlit as st


def render() -> None:
    st.title("Settings")
    st.info("This page will show: Prices, budgets, quotas, model-unit facts, alert rules and "
            "attribution keys the server runs with.")
