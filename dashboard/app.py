"""The `streamlit run` entry of `outcrop dashboard`: the page list and its URLs.

URLs are part of the interface: each page lives at its `url_path` (`/overview`,
`/traces`, …) and the filters are query parameters (outcrop.dashboard.filters). Streamlit
serves the default page at `/` and reserves its url_path, so the default is a hidden
page that switches to `/overview` with the same query parameters: `/` and `/overview`
both open the overview, and the address bar always names the page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from outcrop.dashboard.pages import alerts, capacity, cost, latency, overview, settings, traces


class PageSpec(NamedTuple):
    url_path: str
    title: str
    icon: str
    render: Callable[[], None]


PAGES: tuple[PageSpec, ...] = (
    PageSpec("overview", "Overview", ":material/dashboard:", overview.render),
    PageSpec("traces", "Traces", ":material/account_tree:", traces.render),
    PageSpec("latency", "Latency", ":material/timer:", latency.render),
    PageSpec("cost", "Cost", ":material/payments:", cost.render),
    PageSpec("capacity", "Capacity", ":material/speed:", capacity.render),
    PageSpec("alerts", "Alerts", ":material/notifications:", alerts.render),
    PageSpec("settings", "Settings", ":material/settings:", settings.render),
)
HOME_URL_PATH = "home"  # the hidden default page's reserved path; it only redirects


def navigation() -> StreamlitPage:
    """The pages, the first of them also reached from `/` through the hidden default page."""
    pages = [st.Page(p.render, title=p.title, icon=p.icon, url_path=p.url_path) for p in PAGES]
    first = pages[0]

    def home() -> None:
        # every value of a repeated key (to_dict keeps only the last)
        st.switch_page(first, query_params={k: st.query_params.get_all(k) for k in st.query_params})

    default = st.Page(home, title=PAGES[0].title, url_path=HOME_URL_PATH, default=True, visibility="hidden")
    return st.navigation([default, *pages])


def main() -> None:
    st.set_page_config(page_title="Outcrop", page_icon=":material/landscape:", layout="wide")
    navigation().run()


if __name__ == "__main__":
    main()
