"""What each case action takes (DESIGN §5 "Action"): one request serializer per action, for the schema.

The workflow (gridcase/cases/workflow.py) validates the input itself, after scope, role, version and status
(so an out-of-scope caller gets 404 before any word about the body); these serializers state the same rules
for clients, and the fuzz test (tests/fuzz) checks that every body they call invalid is refused.
"""

from rest_framework import serializers

from gridcase.cases import state, workflow
from gridcase.cases.choices import Rating

NOTE_MAX = 2000
COMMENT_MAX = 500


def _version():
    return serializers.IntegerField(
        required=False, min_value=0,
        help_text="the case's `version` you acted on (required unless sent as an `If-Match` header); a stale one "
                  "answers 409 (412 with If-Match) with the current case")


def _note(required=False, max_length=NOTE_MAX, help_text=""):
    return serializers.CharField(required=required, allow_blank=not required, max_length=max_length,
                                 help_text=help_text)


def _id(help_text):
    return serializers.IntegerField(min_value=1, help_text=help_text)


FIELDS = {
    "accept": {"note": _note()},
    "reject": {"reason": _note(required=True, help_text="why the case is rejected (shown to the reporter)")},
    "merge": {"into": _id("the open case this one duplicates"), "note": _note()},
    "assign": {"assignee": _id("a user working in the owner grid's subtree (or above it)"), "note": _note()},
    "start": {"note": _note()},
    "resolve": {"note": _note(required=True, help_text="what was done"),
                "photos": serializers.ListField(child=serializers.IntegerField(min_value=1), required=False,
                                                help_text="ids of this case's attachments showing the result"),
                "public_reply": _note(max_length=COMMENT_MAX,
                                      help_text="what the resident reads on the tracking page (the note stays "
                                                "internal)")},
    "verify": {"note": _note()},
    "reopen": {"reason": _note(required=True)},
    "close": {"note": _note()},
    "escalate": {"reason": _note(help_text="why a higher level must take it"), "note": _note()},
    "whistle": {"departments": serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1,
                                                     help_text="ids of departments serving this area, not yet "
                                                               "whistled for this case"),
                "report_by": serializers.DateTimeField(required=False,
                                                       help_text="report-in deadline (future); default in 24 h"),
                "note": _note()},
    "report_in": {"note": _note()},
    "reply": {"note": _note(required=True, help_text="the department's answer")},
    "score_department": {"department": _id("a department whistled for this case that has reported in"),
                         "score": serializers.IntegerField(min_value=1, max_value=5),
                         "comment": _note(max_length=COMMENT_MAX)},
    "request_extension": {"hours": serializers.FloatField(min_value=0.01, max_value=workflow.MAX_EXTENSION_HOURS,
                                                          help_text="hours to add to the running deadline"),
                          "reason": _note(required=True)},
    "decide_extension": {"approve": serializers.BooleanField(), "note": _note(max_length=COMMENT_MAX)},
    "supervise": {"comment": _note(required=True, max_length=COMMENT_MAX,
                                   help_text="what the owner grid is urged to do (督办意见)")},
    "rate": {"rating": serializers.ChoiceField(choices=Rating.choices),
             "comment": _note(max_length=COMMENT_MAX, help_text="a dissatisfied rating reopens the case")},
    "callback": {"rating": serializers.ChoiceField(choices=Rating.choices, help_text="the resident's answer"),
                 "called_at": serializers.DateTimeField(help_text="when the resident was called (after closing, "
                                                                  "not in the future)"),
                 "comment": _note(required=True, max_length=COMMENT_MAX,
                                  help_text="what the resident said; a dissatisfied answer reopens the case")},
}
assert set(FIELDS) == set(state.TRANSITIONS)  # noqa: S101 - every action documents its body


def serializer_for(name: str) -> type[serializers.Serializer]:
    """A serializer class per action (schema components `CaseAcceptRequest`, `CaseAssignRequest`, …)."""
    title = "".join(part.title() for part in name.split("_"))
    fields = {"version": _version(), **FIELDS[name]}
    return type(f"Case{title}Serializer", (serializers.Serializer,), fields)


REQUEST_SERIALIZERS = {name: serializer_for(name) for name in state.TRANSITIONS}
