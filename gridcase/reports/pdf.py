"""The monthly report drawn as an A4 PDF (reportlab), Chinese text in an embedded TrueType subset (core/fonts.py).

Sections in the order a street office reads them: the rates with their change on the month before, the child grids
ranked, the departments' response (应哨), the top categories, hotspots (only when the hotspot module is installed),
visit coverage of key populations, and the overdue items. Numbers only: no chart needs a browser.
"""

import tempfile
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from gridcase.core import fonts

WORDS = {  # the report's words, msgctxt "monthly report" (its "Status" is not the case list's)
    "rates_note":
        pgettext_lazy("monthly report", "Rates as declared for every dashboard figure: response = accepted "
                                "in time / reported; resolution = resolved / valid; satisfaction = satisfied or "
                                "basically / rated."),
    "Cases reported": pgettext_lazy("monthly report", "Cases reported"),
    "Response rate": pgettext_lazy("monthly report", "Response rate"),
    "Resolution rate": pgettext_lazy("monthly report", "Resolution rate"),
    "On-time rate": pgettext_lazy("monthly report", "On-time rate"),
    "Satisfaction rate": pgettext_lazy("monthly report", "Satisfaction rate"),
    "Escalation rate": pgettext_lazy("monthly report", "Escalation rate"),
    "Resolved in the micro-grid": pgettext_lazy("monthly report", "Resolved in the micro-grid"),
    "Median hours to resolve": pgettext_lazy("monthly report", "Median hours to resolve"),
    "pts": pgettext_lazy("monthly report", "pts"),
    "All grids": pgettext_lazy("monthly report", "All grids"),
    "%(node)s grid governance report, %(year)s-%(month)s":
        pgettext_lazy("monthly report", "%(node)s grid governance report, %(year)s-%(month)s"),
    "Period %(first)s to %(last)s": pgettext_lazy("monthly report", "Period %(first)s to %(last)s"),
    "(month in progress)": pgettext_lazy("monthly report", "(month in progress)"),
    "Generated %(at)s by %(who)s": pgettext_lazy("monthly report", "Generated %(at)s by %(who)s"),
    "Case figures as of %(at)s": pgettext_lazy("monthly report", "Case figures as of %(at)s"),
    "Key figures": pgettext_lazy("monthly report", "Key figures"),
    "Figure": pgettext_lazy("monthly report", "Figure"),
    "This month": pgettext_lazy("monthly report", "This month"),
    "Previous month (%(m)s)": pgettext_lazy("monthly report", "Previous month (%(m)s)"),
    "Change": pgettext_lazy("monthly report", "Change"),
    "Rank": pgettext_lazy("monthly report", "Rank"),
    "Grid": pgettext_lazy("monthly report", "Grid"),
    "Cases": pgettext_lazy("monthly report", "Cases"),
    "— not ranked: fewer than %(n)s cases.":
        pgettext_lazy("monthly report", "— not ranked: fewer than %(n)s cases."),
    "Child grids ranked by resolution rate":
        pgettext_lazy("monthly report", "Child grids ranked by resolution rate"),
    "Department": pgettext_lazy("monthly report", "Department"),
    "Whistled": pgettext_lazy("monthly report", "Whistled"),
    "Reported in": pgettext_lazy("monthly report", "Reported in"),
    "Report-in rate": pgettext_lazy("monthly report", "Report-in rate"),
    "Median hours to report in": pgettext_lazy("monthly report", "Median hours to report in"),
    "Replied": pgettext_lazy("monthly report", "Replied"),
    "Average score": pgettext_lazy("monthly report", "Average score"),
    "Departments' response to whistles": pgettext_lazy("monthly report", "Departments' response to whistles"),
    "No department was whistled this month.":
        pgettext_lazy("monthly report", "No department was whistled this month."),
    "Category": pgettext_lazy("monthly report", "Category"),
    "Share": pgettext_lazy("monthly report", "Share"),
    "Previous month": pgettext_lazy("monthly report", "Previous month"),
    "Top categories": pgettext_lazy("monthly report", "Top categories"),
    "No case was reported this month.": pgettext_lazy("monthly report", "No case was reported this month."),
    "Place": pgettext_lazy("monthly report", "Place"),
    "Kind": pgettext_lazy("monthly report", "Kind"),
    "Status": pgettext_lazy("monthly report", "Status"),
    "%(n)s in %(d)s days": pgettext_lazy("monthly report", "%(n)s in %(d)s days"),
    "Hotspots (recurring problems)": pgettext_lazy("monthly report", "Hotspots (recurring problems)"),
    "No recurring problem was found this month.":
        pgettext_lazy("monthly report", "No recurring problem was found this month."),
    "Key residents visited on time: %(on)s of %(all)s (%(rate)s).":
        pgettext_lazy("monthly report", "Key residents visited on time: %(on)s of %(all)s (%(rate)s)."),
    "Key population": pgettext_lazy("monthly report", "Key population"),
    "Residents": pgettext_lazy("monthly report", "Residents"),
    "Visited on time": pgettext_lazy("monthly report", "Visited on time"),
    "Coverage": pgettext_lazy("monthly report", "Coverage"),
    "Visit coverage of key populations": pgettext_lazy("monthly report", "Visit coverage of key populations"),
    "Number": pgettext_lazy("monthly report", "Number"),
    "Title": pgettext_lazy("monthly report", "Title"),
    "Days late": pgettext_lazy("monthly report", "Days late"),
    "%(n)s open cases are past their deadline now; the longest late:":
        pgettext_lazy("monthly report", "%(n)s open cases are past their deadline now; the longest late:"),
    "No open case is past its deadline.":
        pgettext_lazy("monthly report", "No open case is past its deadline."),
    "Overdue items": pgettext_lazy("monthly report", "Overdue items"),
    "Page %(n)s": pgettext_lazy("monthly report", "Page %(n)s"),
}


def word(key: str) -> str:
    return str(WORDS[key])


ACCENT = colors.HexColor("#c8161d")
GRID_LINE = colors.HexColor("#999999")
HEAD_BG = colors.HexColor("#f2f2f2")
GOOD = colors.HexColor("#1a7f37")
BAD = colors.HexColor("#c8161d")

METRIC_LABELS = {
    "total": lambda: word("Cases reported"),
    "response_rate": lambda: word("Response rate"),
    "resolution_rate": lambda: word("Resolution rate"),
    "on_time_rate": lambda: word("On-time rate"),
    "satisfaction_rate": lambda: word("Satisfaction rate"),
    "escalation_rate": lambda: word("Escalation rate"),
    "resolved_in_micro_grid_rate": lambda: word("Resolved in the micro-grid"),
    "median_hours_to_resolve": lambda: word("Median hours to resolve"),
}


def _styles(font):
    base = ParagraphStyle("base", fontName=font, fontSize=9.5, leading=13, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=20, leading=26, alignment=TA_CENTER, textColor=ACCENT),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=11, leading=16, alignment=TA_CENTER),
        "h2": ParagraphStyle("h2", parent=base, fontSize=13, leading=18, spaceBefore=8, spaceAfter=4,
                             textColor=ACCENT),
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=11, textColor=colors.HexColor("#555555")),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11),
    }


def pct(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def num(value, digits=0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}" if digits else f"{value:,}"


def _change_text(row):
    change = row["change"]
    if change is None:
        return "—", None
    if row["kind"] == "rate":
        text = f"{change * 100:+.1f} " + word("pts")
    elif row["kind"] == "hours":
        text = f"{change:+.1f} h"
    else:
        text = f"{change:+,}"
    good = (change > 0) == row["higher_is_better"] if change and row["higher_is_better"] is not None else None
    return text, good


def _value(row, key="value"):
    v = row[key]
    if row["kind"] == "rate":
        return pct(v)
    if row["kind"] == "hours":
        return num(v, 1)
    return num(v)


def _table(rows, widths, style_extra=()):
    # Header cells wrap (a long Chinese title must not run into its neighbour).
    head = ParagraphStyle("head", fontName=fonts.cjk_font(), fontSize=8.5, leading=10.5, wordWrap="CJK")
    rows = [[Paragraph(escape(str(c)), head) if isinstance(c, str) else c for c in rows[0]], *rows[1:]]
    t = Table(rows, colWidths=widths, repeatRows=1)
    t.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), fonts.cjk_font()),
        ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
        ("GRID", (0, 0), (-1, -1), 0.4, GRID_LINE),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        *style_extra,
    ]))
    return t


CN_NUMERALS = "一二三四五六七八九十"


def _heading(n: int, text: str) -> str:
    if (get_language() or "").startswith("zh") and n <= len(CN_NUMERALS):
        return f"{CN_NUMERALS[n - 1]}、{text}"
    return f"{n}. {text}"


def _p(text, style):
    return Paragraph(escape(str(text)), style)


def render(data: dict):
    """The PDF in a temporary file (positioned at its start; deleted when closed)."""
    font = fonts.cjk_font()
    st = _styles(font)
    out = tempfile.TemporaryFile(suffix=".pdf")
    node = data["grid"]["name"] if data["grid"] else word("All grids")
    year, month = data["month"].split("-")
    title = word("%(node)s grid governance report, %(year)s-%(month)s") % {"node": node, "year": year,
                                                                         "month": month}
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=16 * mm, rightMargin=16 * mm, topMargin=16 * mm,
                            bottomMargin=16 * mm, title=title, author="GridCase", subject=data["month"])
    width = A4[0] - 32 * mm
    story = [_p(title, st["title"]), Spacer(1, 2 * mm)]
    sub = word("Period %(first)s to %(last)s") % {"first": data["from"].isoformat(), "last": data["to"].isoformat()}
    if data["partial"]:
        sub += " " + word("(month in progress)")
    story.append(_p(sub, st["subtitle"]))
    meta = [data["grid"]["path"]] if data["grid"] else []
    meta.append(word("Generated %(at)s by %(who)s") % {"at": data["generated_at"].strftime("%Y-%m-%d %H:%M"),
                                                     "who": data["generated_by"]})
    if data["as_of"]:
        meta.append(word("Case figures as of %(at)s") % {
            "at": timezone.localtime(data["as_of"]).strftime("%Y-%m-%d %H:%M")})
    story += [_p(" · ".join(meta), st["small"]), Spacer(1, 4 * mm)]

    # 1. Rates and their change
    story.append(_p(_heading(1, word("Key figures")), st["h2"]))
    rows = [[word("Figure"), word("This month"), word("Previous month (%(m)s)") % {"m": data["previous_month"]},
             word("Change")]]
    extra = []
    for i, r in enumerate(data["rates"], 1):
        text, good = _change_text(r)
        rows.append([METRIC_LABELS.get(r["metric"], lambda m=r["metric"]: m)(), _value(r), _value(r, "previous"),
                     text])
        if good is not None:
            extra.append(("TEXTCOLOR", (3, i), (3, i), GOOD if good else BAD))
    story.append(_table(rows, [width * 0.4, width * 0.2, width * 0.2, width * 0.2], extra))
    story.append(_p(word("rates_note"), st["small"]))

    sections = _sections(data, st, width)
    for n, (heading, flowables) in enumerate(sections, 2):
        # A heading never ends a page alone: it is kept with the first block of its section.
        story.append(KeepTogether([_p(_heading(n, heading), st["h2"]), flowables[0]]))
        story += flowables[1:]
    doc.build(story, onFirstPage=_footer(font, title), onLaterPages=_footer(font, title))
    out.seek(0)
    return out


def _sections(data, st, width):
    out = []
    # Child grids
    rank = data["ranking"]["rows"]
    if rank:
        rows = [[word("Rank"), word("Grid"), word("Cases"), word("Resolution rate"), word("On-time rate"), word("Satisfaction rate"),
                 word("Response rate")]]
        for r in rank:
            rows.append([r["rank"] or "—", _p(r["grid_name"], st["cell"]), num(r["total"]), pct(r["resolution_rate"]),
                         pct(r["on_time_rate"]), pct(r["satisfaction_rate"]), pct(r["response_rate"])])
        w = width / 10
        flow = [_table(rows, [w, 3 * w, w, 1.25 * w, 1.25 * w, 1.25 * w, 1.25 * w])]
        if data["ranking"]["min_volume"] and any(r["rank"] is None for r in rank):
            flow.append(_p(word("— not ranked: fewer than %(n)s cases.")
                           % {"n": data["ranking"]["min_volume"]}, st["small"]))
        out.append((word("Child grids ranked by resolution rate"), flow))
    # Departments (应哨)
    deps = data["departments"]
    if deps:
        rows = [[word("Department"), word("Whistled"), word("Reported in"), word("Report-in rate"), word("Median hours to report in"),
                 word("Replied"), word("Average score")]]
        for d in deps:
            rows.append([_p(d["department_name"], st["cell"]), num(d["whistled"]), num(d["reported_in"]),
                         pct(d["report_in_rate"]), num(d["median_report_in_hours"], 1), num(d["replied"]),
                         num(d["average_score"], 2)])
        w = width / 10
        out.append((word("Departments' response to whistles"), [_table(rows, [2.8 * w, w, w, 1.3 * w, 1.6 * w, w,
                                                                           1.3 * w])]))
    else:
        out.append((word("Departments' response to whistles"), [_p(word("No department was whistled this month."),
                                                                 st["body"])]))
    # Categories
    cats = data["categories"]
    rows = [[word("Category"), word("Cases"), word("Share"), word("Previous month")]]
    for c in cats:
        rows.append([_p(c["category_name"], st["cell"]), num(c["count"]), pct(c["share"]), num(c["previous"])])
    out.append((word("Top categories"), [_table(rows, [width * 0.46, width * 0.18, width * 0.18, width * 0.18])]
                if cats else [_p(word("No case was reported this month."), st["body"])]))
    # Hotspots: only when the module exists (None); an empty list says so in words.
    if data["hotspots"] is not None:
        spots = data["hotspots"]
        if spots:
            rows = [[word("Category"), word("Place"), word("Kind"), word("Cases"), word("Status")]]
            for h in spots:
                rows.append([_p(h["category_name"], st["cell"]), _p(h["place"], st["cell"]), _p(h["kind"], st["cell"]),
                             word("%(n)s in %(d)s days") % {"n": h["count"], "d": h["window_days"]},
                             _p(h["status"], st["cell"])])
            w = width / 10
            out.append((word("Hotspots (recurring problems)"), [_table(rows, [2 * w, 2.6 * w, 1.8 * w, 1.6 * w, 2 * w])]))
        else:
            out.append((word("Hotspots (recurring problems)"), [_p(word("No recurring problem was found this month."),
                                                                st["body"])]))
    # Visit coverage
    cov = data["coverage"]
    overall = cov["overall"]
    flow = [_p(word("Key residents visited on time: %(on)s of %(all)s (%(rate)s).")
               % {"on": num(overall["on_time"]), "all": num(overall["residents"]), "rate": pct(overall["rate"])},
               st["body"])]
    if cov["by_tag"]:
        rows = [[word("Key population"), word("Residents"), word("Visited on time"), word("Coverage")]]
        for t in cov["by_tag"]:
            rows.append([t["tag_name"], num(t["residents"]), num(t["on_time"]), pct(t["rate"])])
        flow += [Spacer(1, 2 * mm), _table(rows, [width * 0.4, width * 0.2, width * 0.2, width * 0.2])]
    if len(cov["by_grid"]) > 1:
        rows = [[word("Grid"), word("Residents"), word("Visited on time"), word("Coverage")]]
        for g in cov["by_grid"]:
            rows.append([_p(g["grid_name"], st["cell"]), num(g["residents"]), num(g["on_time"]), pct(g["rate"])])
        flow += [Spacer(1, 2 * mm), _table(rows, [width * 0.4, width * 0.2, width * 0.2, width * 0.2])]
    out.append((word("Visit coverage of key populations"), flow))
    # Overdue
    od = data["overdue"]
    if od["items"]:
        rows = [[word("Number"), word("Title"), word("Grid"), word("Status"), word("Days late")]]
        for c in od["items"]:
            rows.append([c["number"], _p(c["title"], st["cell"]), _p(c["owner_grid_name"], st["cell"]),
                         c["status"], num(c["days_late"], 1)])
        w = width / 10
        flow = [_p(word("%(n)s open cases are past their deadline now; the longest late:") % {"n": od["count"]},
                   st["body"]), Spacer(1, 1.5 * mm), _table(rows, [2 * w, 3.6 * w, 2 * w, 1.2 * w, 1.2 * w])]
    else:
        flow = [_p(word("No open case is past its deadline."), st["body"])]
    out.append((word("Overdue items"), flow))
    return out


def _footer(font, title):
    def draw(canvas, doc):
        canvas.saveState()
        canvas.setFont(font, 7.5)
        canvas.setFillColor(colors.HexColor("#777777"))
        canvas.drawString(16 * mm, 9 * mm, title)
        canvas.drawRightString(A4[0] - 16 * mm, 9 * mm, word("Page %(n)s") % {"n": doc.page})
        canvas.restoreState()
    return draw
