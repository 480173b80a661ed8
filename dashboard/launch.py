"""`python -m outcrop.dashboard.launch run <app.py> [options]`: `streamlit run` whose every
page goes through `st.navigation` in app.py.

Streamlit (1.67) decides once per process, when its first session starts, whether an app
uses the legacy `pages/` folder beside its main script
(`streamlit.runtime.pages_manager.PagesManager.uses_pages_directory`); only a call of
`st.navigation` turns that off, and only after the run that made it. The dashboard keeps
its page modules in `dashboard/pages/`, so without this the first session after a start
would run `pages/<name>.py` itself as a script (it defines `render()` and draws nothing)
instead of app.py. Turned off before the server starts, every run is app.py's.
"""

from __future__ import annotations


def navigation_only() -> None:
    """Tell Streamlit the app has no legacy `pages/` folder: st.navigation lists the pages."""
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False


def main() -> None:
    """The `streamlit` command line (arguments from sys.argv), after navigation_only()."""
    navigation_only()
    from streamlit.web import cli

    cli.main(prog_name="streamlit")


if __name__ == "__main__":
    main()
