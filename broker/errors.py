"""Business-rule refusals shared by every channel (pages, API, admin, commands)."""

from __future__ import annotations


class RuleViolation(Exception):
    """A business rule refused an action.

    `code` is stable and machine-readable (the API returns it), `message` is a
    translated sentence for people, `reasons` optional details (for example the
    doctrine's reasons) and `field` the input field concerned, when there is one.
    """

    def __init__(self, code: str, message: str, *, reasons: list[str] | None = None,
                 field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = str(message)
        self.reasons = [str(r) for r in (reasons or [])]
        self.field = field

    def as_dict(self) -> dict:
        data: dict = {"code": self.code, "detail": self.message}
        if self.reasons:
            data["reasons"] = self.reasons
        if self.field:
            data["field"] = self.field
        return data
