"""A campaign's checklist (排查清单): its questions, how an answer is checked, and which answer reveals a problem.

A checklist is a list of questions, each a dict:

    {"key": "charging", "text": "楼道内是否有电动车充电", "type": "yes_no", "required": true,
     "problem": {"equals": true}, "category": "safety_ebike"}

- `type`: `yes_no` (true/false), `choice` (one of `choices`), `number`, `photo` (an uploaded image), `text`.
- `problem` (optional): the rule that makes an answer a problem found — `{"equals": v}`, `{"in": [..]}`,
  `{"gt": n}`, `{"lt": n}` (numbers), `{"present": true}` (a photo or text given). A task with a problem answer
  opens a case in `category` (a case category code; the campaign's default category otherwise).
"""

from django.utils.translation import gettext_lazy as _

from gridcase.core.errors import ValidationFailed

TYPES = ("yes_no", "choice", "number", "photo", "text")
RULES = ("equals", "in", "gt", "lt", "present")
MAX_QUESTIONS = 50
MAX_TEXT = 1000


def _bad(message, **kw):
    raise ValidationFailed(message % kw if kw else message, code="invalid_checklist",
                           fields={"checklist": [message % kw if kw else message]})


def validate(checklist) -> list[dict]:
    """The checklist, normalised; a clear `invalid_checklist` error for anything malformed."""
    if not isinstance(checklist, list) or not checklist:
        _bad(_("A checklist is a list of at least one question."))
    if len(checklist) > MAX_QUESTIONS:
        _bad(_("A checklist has at most %(n)s questions."), n=MAX_QUESTIONS)
    out, keys = [], set()
    for i, q in enumerate(checklist, 1):
        if not isinstance(q, dict):
            _bad(_("Question %(i)s is not an object."), i=i)
        key, text, kind = q.get("key"), q.get("text"), q.get("type")
        if not isinstance(key, str) or not key.isidentifier() or len(key) > 40 or key in keys:
            _bad(_("Question %(i)s needs a unique key (letters, digits, underscore)."), i=i)
        keys.add(key)
        if not isinstance(text, str) or not text.strip() or len(text) > 200:
            _bad(_("Question %(i)s needs a text of at most 200 characters."), i=i)
        if kind not in TYPES:
            _bad(_("Question %(i)s has an unknown type (yes_no, choice, number, photo, text)."), i=i)
        norm = {"key": key, "text": text.strip(), "type": kind, "required": bool(q.get("required", False))}
        if kind == "choice":
            choices = q.get("choices")
            if not isinstance(choices, list) or len(choices) < 2 or not all(isinstance(c, str) and c for c in choices):
                _bad(_("Question %(i)s (choice) needs at least two choices."), i=i)
            norm["choices"] = choices
        problem = q.get("problem")
        if problem is not None:
            if not isinstance(problem, dict) or len(problem) != 1 or next(iter(problem)) not in RULES:
                _bad(_("Question %(i)s: a problem rule is one of equals, in, gt, lt, present."), i=i)
            rule, value = next(iter(problem.items()))
            if rule in ("gt", "lt") and (kind != "number" or not _is_number(value)):
                _bad(_("Question %(i)s: gt and lt compare numbers."), i=i)
            if rule == "in" and not isinstance(value, list):
                _bad(_("Question %(i)s: `in` takes a list."), i=i)
            if rule == "equals":
                try:
                    check_value(norm, value)
                except ValidationFailed:
                    _bad(_("Question %(i)s: the problem value is not a valid answer."), i=i)
            norm["problem"] = {rule: value}
        if q.get("category"):
            if not isinstance(q["category"], str):
                _bad(_("Question %(i)s: the category is a category code."), i=i)
            norm["category"] = q["category"]
        out.append(norm)
    return out


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_value(question: dict, value):
    """The answer to one question, or ValidationFailed naming the question (wrong type, not a choice…)."""
    kind, key = question["type"], question["key"]

    def wrong(message):
        raise ValidationFailed(_("Answer %(key)s: %(why)s") % {"key": key, "why": message}, code="invalid_answer",
                               fields={f"answers.{key}": [str(message)]})

    if kind == "yes_no":
        if not isinstance(value, bool):
            wrong(_("answer yes (true) or no (false)."))
    elif kind == "choice":
        if value not in question.get("choices", []):
            wrong(_("choose one of the given choices."))
    elif kind == "number":
        if not _is_number(value) or value != value or abs(value) > 1e9:
            wrong(_("enter a number."))
    elif kind == "text":
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            wrong(_("enter text of at most 1000 characters."))
        value = value.strip()
    elif kind == "photo":
        if value is not True:  # the file itself travels as a form part named after the question
            wrong(_("attach a photo."))
    return value


def check_answers(checklist: list[dict], answers, photos: dict) -> dict:
    """Every answer checked against its question; required questions answered; no unknown keys."""
    if not isinstance(answers, dict):
        raise ValidationFailed(_("Answers are an object of question key to answer."), code="invalid_answer",
                               fields={"answers": [_("Answers are an object of question key to answer.")]})
    by_key = {q["key"]: q for q in checklist}
    unknown = sorted(set(answers) - set(by_key))
    if unknown:
        raise ValidationFailed(_("Unknown question: %(keys)s") % {"keys": ", ".join(unknown)}, code="invalid_answer",
                               fields={"answers": [_("Unknown question: %(keys)s") % {"keys": ", ".join(unknown)}]})
    out = {}
    for q in checklist:
        key = q["key"]
        value = answers.get(key)
        if q["type"] == "photo":
            value = True if key in photos else (None if value in (None, False) else value)
        if value is None or value == "":
            if q["required"]:
                raise ValidationFailed(_("Answer %(key)s is required.") % {"key": key}, code="invalid_answer",
                                       fields={f"answers.{key}": [_("This field is required.")]})
            continue
        out[key] = check_value(q, value)
    return out


def problems(checklist: list[dict], answers: dict) -> list[dict]:
    """The questions whose answer meets their problem rule."""
    found = []
    for q in checklist:
        rule = q.get("problem")
        if not rule or q["key"] not in answers:
            continue
        (op, expected), value = next(iter(rule.items())), answers[q["key"]]
        hit = ((op == "equals" and value == expected) or (op == "in" and value in expected)
               or (op == "gt" and value > expected) or (op == "lt" and value < expected)
               or (op == "present" and bool(value) == bool(expected)))
        if hit:
            found.append(q)
    return found
