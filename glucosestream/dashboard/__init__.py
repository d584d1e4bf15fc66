"""The Bokeh dashboard's importable half: query adapter, view models, figures, privacy release,
live feeds and the programmatic server. ``bokeh_app/`` only wires widgets to these."""
