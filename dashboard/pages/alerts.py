"""The Alerts page."""

from __future__ import annotations

import streamlit as st


def render() -> None:
    st.title("Alerts")
    st.info("This page will show: Firing and resolved alerts with their history, to acknowledge or "
            "silence.")
