"""Small technical pieces every layer uses: configuration, errors, logging and metrics, the clock, page cursors and
page sizes."""
