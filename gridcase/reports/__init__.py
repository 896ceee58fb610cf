"""Documents made from the lists and figures: XLSX exports of the case and resident lists (exports.py) and the
monthly report of a node (monthly.py, a PDF drawn by pdf.py). Large ones run as background jobs (gridcase.jobs)."""
