"""The CRS timeline SMART app's side of the service: turning the resources the page read into facts
(`intake.py`, the one place that knows how) and serving the page's built bundle (`static.py`).

The page itself lives in `smart-app/` (JavaScript, built with npm into `web/static/`, which git ignores).
"""
