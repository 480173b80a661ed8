"""The `streamlit run` entry of `outcrop dashboard`: the page list and its URLs.

URLs are part of the interface: each page lives at its `url_path` (`/overview`,
`/traces`, …) and the filters are query parameters (outcrop.dashboard.filters). Streamlit
serves the default page at `/` and reserves its url_path, so the default is a hidden
page that switches to `/overview` with the same query parameters: `/` and `/overview`
both open the overview, and the address bar always names the page.

Before any page, the gate of `[dashboard]`: with `trusted_user_header` a request the
reverse proxy did not mark is refused; with `password` a session first proves it knows
the password.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from typing import NamedTuple

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from outcrop.core.settings import DashboardSettings
from outcrop.dashboard import ui
from outcrop.dashboard.api_client.base import ApiError, dashboard_settings
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


_SIGNED_IN = "outcrop_signed_in"


def sent_by_proxy(headers: Mapping[str, str], header: str | None) -> bool:
    """Whether the request carries the header the trusted reverse proxy sets (always, without one)."""
    if header is None:
        return True
    wanted = header.lower()
    return any(k.lower() == wanted and v.strip() for k, v in headers.items())


def password_matches(typed: str, password: str) -> bool:
    """Compared in constant time, so the answer's timing tells nothing about the password."""
    return hmac.compare_digest(typed.encode(), password.encode())


def gate(settings: DashboardSettings) -> bool:
    """True when this session may see the pages; otherwise draws why not (or the password form)."""
    if not sent_by_proxy(dict(st.context.headers), settings.trusted_user_header):
        st.error(f"Refused: this dashboard is opened through its reverse proxy, which sets the "
                 f"{settings.trusted_user_header} header (dashboard.trusted_user_header).")
        return False
    if settings.password is None or st.session_state.get(_SIGNED_IN):
        return True
    st.title("Outcrop")
    with st.form("sign_in"):
        typed = st.text_input("Password", type="password", key="sign_in_password")
        if st.form_submit_button("Open the dashboard"):
            if password_matches(typed, settings.password.get_secret_value()):
                st.session_state[_SIGNED_IN] = True
                st.rerun()
            st.error("Wrong password.")
    return False


def main() -> None:
    st.set_page_config(page_title="Outcrop", page_icon=":material/landscape:", layout="wide")
    try:
        settings = dashboard_settings().dashboard
    except ApiError as exc:
        ui.error_line(exc)
        return
    if gate(settings):
        navigation().run()


if __name__ == "__main__":
    main()
