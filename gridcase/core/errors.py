"""Domain errors: raised by services, turned into JSON `{code, message, fields}` by the API layer.

Messages are lazily translated, so the caller's language (Accept-Language) decides the text.
"""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    status = 400
    code = "validation_error"
    default_message = _("The request is not valid.")

    def __init__(self, message=None, *, code=None, fields=None, status=None, current=None):
        self.message = message or self.default_message
        if code:
            self.code = code
        if status:
            self.status = status
        self.fields = fields or {}
        self.current = current
        super().__init__(str(self.message))


class ValidationFailed(DomainError):
    pass


class NotFound(DomainError):
    status = 404
    code = "not_found"
    default_message = _("Not found.")


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    default_message = _("You do not have permission to do this.")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    default_message = _("Someone else changed this first. Reload and try again.")


class InvalidTransition(DomainError):
    status = 409
    code = "invalid_transition"
    default_message = _("This action is not allowed in the current status.")
