"""The Latency page."""

from __future__ import annotations

import streamlit as st


def render() -> None:
    st.title("Latency")
    st.info("This page will show: TTFT, TTLT and output tokens per second percentiles over time by "
            "model, route and tenant, and the time each stage of the request path takes.")
