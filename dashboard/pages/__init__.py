"""One module per dashboard page, each with `render() -> None`; `dashboard/app.py` lists them."""
