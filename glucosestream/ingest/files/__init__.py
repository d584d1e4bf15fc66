"""Export files into readings: vendor formats (Dexcom Clarity, LibreView, Nightscout, iglu CSV) and
``glucosestream import``.
"""
