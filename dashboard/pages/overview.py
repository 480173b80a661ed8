"""The Overview page."""

from __future__ import annotations

import streamlit as st


def render() -> None:
    st.title("Overview")
    st.info("This page will show: requests, spend, latency, throttle and error rates for the range against the "
            "previous period, sparklines, top movers and firing alerts.")
