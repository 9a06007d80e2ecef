"""One module per page of the web app: `LABELS` (English and Chinese) and `build(ctx) -> Page`."""
