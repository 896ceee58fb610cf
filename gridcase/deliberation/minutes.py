"""The minutes of a consultation (议事会议纪要) as a printable A4 PDF, in Chinese, with the CJK font the QR posters
use (`core.fonts.cjk_font`): topic, time and place, attendance, agenda, positions, options and votes or the
consensus, and the topic's decision with its actions and their cases.

Residents are listed by name and building (no phone or ID number: the minutes are posted and handed round).
"""

import io
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from gridcase.core import fonts

from .models import DecisionMethod, PlaceKind, Stance, TopicStatus

TZ = ZoneInfo("Asia/Shanghai")
STANCES = {Stance.FOR: "赞成", Stance.AGAINST: "反对", Stance.NEUTRAL: "中立", Stance.SUGGESTION: "建议"}
PLACES = {PlaceKind.HALL: "议事厅", PlaceKind.BUILDING_DOOR: "楼栋门口", PlaceKind.HOME: "居民家中", PlaceKind.OTHER: "其他"}
TOPIC_STATES = {TopicStatus.OPEN: "已提出", TopicStatus.DELIBERATING: "议事中", TopicStatus.DECIDED: "已决议",
                TopicStatus.FOLLOWED_THROUGH: "已落实", TopicStatus.CLOSED: "已关闭"}
CASE_STATES = {"reported": "待受理", "accepted": "已受理", "assigned": "已派遣", "in_progress": "处置中",
               "resolved": "已处置", "verified": "已核查", "closed": "已结案", "rejected": "不予受理", "merged": "已合并"}


def _t(value):
    return value.astimezone(TZ).strftime("%Y-%m-%d %H:%M") if value else ""


def render(meeting, attendees, positions, tally, actions) -> bytes:
    font = fonts.cjk_font()
    body = ParagraphStyle("body", fontName=font, fontSize=11, leading=16, wordWrap="CJK")
    head = ParagraphStyle("head", parent=body, fontSize=18, leading=26, alignment=1, spaceAfter=6)
    h2 = ParagraphStyle("h2", parent=body, fontSize=13, leading=20, spaceBefore=8, spaceAfter=2)
    topic = meeting.topic

    def p(text, style=body):
        return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)

    story = [p("议事会议纪要", head), p(topic.title, ParagraphStyle("sub", parent=body, alignment=1, fontSize=13)),
             Spacer(1, 4 * mm)]
    story += [p(f"时间：{_t(meeting.starts_at)}"), p(f"地点：{PLACES.get(meeting.place_kind, '')} · {meeting.place}"),
              p(f"议题层级：{topic.grid.name}{' · ' + topic.building.name if topic.building_id else ''}"),
              p(f"涉及居民：{topic.residents_scope or '—'}")]
    signed = [a for a in attendees if a.signed_in_at]
    invited = [a for a in attendees if a.invited]
    story.append(p(f"应到 {len(invited)} 人，实到 {len(signed)} 人", h2))
    rows = [["姓名", "身份", "住址", "签到"]] + [
        [a.name, {"resident": "居民", "staff": "工作人员", "guest": "列席"}.get(a.kind, a.kind), a.place,
         _t(a.signed_in_at) or "未到"] for a in attendees]
    table = Table(rows, colWidths=[32 * mm, 26 * mm, 60 * mm, 40 * mm], repeatRows=1)
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 10),
                               ("GRID", (0, 0), (-1, -1), 0.4, "#888888"), ("BACKGROUND", (0, 0), (-1, 0), "#eeeeee")]))
    story.append(table)
    story.append(p("议程", h2))
    story += [p(line) for line in (meeting.agenda or "—").splitlines() if line.strip()]
    story.append(p("发言记录", h2))
    story += [p(f"{x.speaker}（{STANCES.get(x.stance, x.stance)}）：{x.text}") for x in positions] or [p("—")]
    if meeting.method == DecisionMethod.VOTE or tally:
        story.append(p("表决", h2))
        story += [p(f"{o['label']}：{o['votes']} 票") for o in tally] or [p("—")]
    if meeting.consensus:
        story.append(p("协商一致意见", h2))
        story.append(p(meeting.consensus))
    if topic.decision and topic.decided_in_id == meeting.pk:
        story.append(p("决议", h2))
        story.append(p(topic.decision))
        if actions:
            story.append(p("落实事项", h2))
            for i, a in enumerate(actions, 1):
                case = a.case
                state = f"{case.number} {CASE_STATES.get(case.status, case.status)}" if case else "未立案"
                story.append(p(f"{i}. {a.title}（{state}）"))
    story.append(Spacer(1, 8 * mm))
    story.append(p(f"议题状态：{TOPIC_STATES.get(topic.status, topic.status)}    会议结束：{_t(meeting.closed_at) or '会议进行中'}"))
    story.append(p("主持人签字：____________    记录人签字：____________"))
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm,
                            bottomMargin=18 * mm, title=f"议事会议纪要 {topic.title}")
    doc.build(story)
    return out.getvalue()
