"""The Traces page."""

from __future__ import annotations

import streamlit as st


def render() -> None:
    st.title("Traces")
    st.info("This page will show: Search traces by tenant, route, workflow, model, status, duration, "
            "cost, trace id or Bedrock request id; a selected trace opens as a waterfall of its spans.")
