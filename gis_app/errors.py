"""The one error hierarchy: services raise, one handler renders HTML or JSON."""
from __future__ import annotations


class HeritageError(Exception):
    """Base error. Carries an HTTP status, a log message and a user message in vi/en."""

    status = 500
    code = "error"

    def __init__(self, message_en: str, message_vi: str | None = None, *, log: str | None = None,
                 details: dict[str, object] | None = None) -> None:
        super().__init__(message_en)
        self.message_en = message_en
        self.message_vi = message_vi or message_en
        self.log_message = log or message_en
        self.details = details or {}

    def user_message(self, lang: str) -> str:
        return self.message_vi if lang == "vi" else self.message_en

    def to_json(self, lang: str) -> dict[str, object]:
        body: dict[str, object] = {"error": self.code, "message": self.user_message(lang)}
        body.update(self.details)
        return body


class InputError(HeritageError):
    """The request or file is malformed; the message says what to change."""

    status = 400
    code = "invalid_input"


class RecordNotFound(HeritageError):
    status = 404
    code = "not_found"


class RecordGone(HeritageError):
    """The record existed and was retired: its identifier is never reused."""

    status = 410
    code = "gone"


class RecordMoved(HeritageError):
    """The record was merged into another: `details["heritage_id"]` is where it lives on.
    Pages answer with a permanent redirect there."""

    status = 301
    code = "moved"


class PermissionDenied(HeritageError):
    status = 403
    code = "forbidden"


class TooManyAttempts(HeritageError):
    """Refused for now: too many recent attempts (sign-in throttling)."""

    status = 429
    code = "too_many_attempts"


class ImportFailed(HeritageError):
    """An import was rolled back; nothing was written."""

    status = 422
    code = "import_failed"


class NotAvailable(HeritageError):
    """The server cannot do it now (busy, or misconfigured); the message says whether to
    retry or whom to tell."""

    status = 503
    code = "not_available"
