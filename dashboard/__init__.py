"""The Streamlit dashboard (`outcrop dashboard`): pages over the server's read API.

It imports only `outcrop.core`; the numbers it shows come from named queries and read
endpoints of a running server, never from the database file.
"""
