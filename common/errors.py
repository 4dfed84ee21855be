"""Errors the domain raises. The API layer maps each to an HTTP status; the admin to a message.

Domain code raises these and never imports the API layer.
"""


class DomainError(Exception):
    """Base class: ``code`` is machine-readable, ``message`` is for people, ``field`` names the
    input at fault when there is one."""

    code = "error"

    def __init__(self, message, *, code=None, field=None, extra=None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field
        self.extra = extra or {}


class InvalidInput(DomainError):
    code = "invalid"


class NotFound(DomainError):
    code = "not_found"


class PermissionDenied(DomainError):
    code = "permission_denied"


class Conflict(DomainError):
    code = "conflict"


class PreconditionFailed(DomainError):
    code = "precondition_failed"
