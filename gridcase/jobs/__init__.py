"""Background jobs whose result is a file for the person who asked (exports, reports): progress and download.

See `services.py`; a kind of job is one line in `kinds.py`.
"""
