"""GlucoseStream dashboard (directory-format Bokeh server app).

    bokeh serve bokeh_app --address 127.0.0.1 --port 5006     # settings from GS_* variables

Views by URL: ``/?view=report&patient=…&period=YYYY-MM-DD``, ``?view=cohort``,
``?view=privacy``, ``?view=live``. All data shaping lives in :mod:`glucosestream.dashboard`.
"""

from bokeh.io import curdoc

from glucosestream.dashboard import app, resources

doc = curdoc()
shared = resources.shared()
arguments = doc.session_context.request.arguments if doc.session_context else {}
app.build(
    doc,
    shared.queries,
    shared.live,
    app.ThreadRunner(doc, shared.executor),
    arguments,
    privacy_only=shared.privacy_only,
)
