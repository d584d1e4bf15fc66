"""GlucoseStream dashboard (directory-format Bokeh server app).

    bokeh serve bokeh_app --address 127.0.0.1 --port 5006     # settings from GS_* variables

Views by URL: ``/?view=report&patient=…&period=YYYY-MM-DD``, ``?view=cohort``,
``?view=privacy``, ``?view=live``. All data shaping lives in :mod:`glucosestream.dashboard`.
"""

from bokeh.io import curdoc

from glucosestream.dashboard import app, resources
from glucosestream.dashboard.runner import ThreadRunner

doc = curdoc()
shared = resources.shared()
request = doc.session_context.request if doc.session_context else None
# The headers of the request that opened the page: in aws mode the ALB's signed identity.
viewer = shared.identify(request.headers if request else {})
app.build(
    doc,
    shared.queries,
    shared.live,
    ThreadRunner(doc, shared.executor),
    request.arguments if request else {},
    ledger=shared.ledger,
    viewer=viewer,
    privacy_only=shared.privacy_only,
    acknowledge=shared.acknowledge,
)
