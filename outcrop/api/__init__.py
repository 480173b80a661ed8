"""The read API: named queries, traces, ad-hoc SQL and admin calls over HTTP."""
