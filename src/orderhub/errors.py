"""Errors a user can act on: a stable code, an HTTP status and a detail that says what to change.

One handler (api/errors.py) renders them as RFC 9457 problem details; the CLI and the console
print `detail`. Raised anywhere, including the domain, because they carry no I/O.
"""

from __future__ import annotations

from typing import Any


class OrderHubError(Exception):
    code = "orderhub_error"
    status = 400
    title = "Request refused"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class ValidationFailed(OrderHubError):
    """A payload that does not describe a valid order (422)."""

    code = "validation_failed"
    status = 422
    title = "The data is not valid"

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail, field=field, **extra)
        self.field = field


class IllegalTransition(OrderHubError):
    code = "illegal_transition"
    status = 409
    title = "Action not allowed in this state"


class EditRefused(OrderHubError):
    code = "edit_refused"
    status = 409
    title = "The order can no longer be edited"


class SplitRefused(OrderHubError):
    """The order cannot be split now (it reached the warehouse, it is merged...)."""

    code = "split_refused"
    status = 409
    title = "The order cannot be split now"


class MergeRefused(OrderHubError):
    """Orders that cannot share a parcel, or a merged parcel that cannot be undone now."""

    code = "merge_refused"
    status = 409
    title = "The orders cannot be merged (or unmerged) now"


class AlreadyClosed(OrderHubError):
    code = "already_closed"
    status = 409
    title = "Already closed"


class ConcurrentUpdate(OrderHubError):
    code = "concurrent_update"
    status = 409
    title = "The order changed meanwhile"


class IdempotencyConflict(OrderHubError):
    code = "idempotency_key_reused"
    status = 409
    title = "Idempotency key already used with another body"


class AlreadyExists(OrderHubError):
    code = "already_exists"
    status = 409
    title = "It already exists"


class DuplicateOrder(AlreadyExists):
    code = "duplicate_order"
    title = "The order already exists"


class NotFound(OrderHubError):
    code = "not_found"
    status = 404
    title = "Not found"


class NotAuthenticated(OrderHubError):
    code = "not_authenticated"
    status = 401
    title = "Sign in first"


class PermissionDenied(OrderHubError):
    code = "permission_denied"
    status = 403
    title = "Permission missing"

    def __init__(self, detail: str, *, permission: str) -> None:
        super().__init__(detail, permission=permission)
        self.permission = permission


class DatabaseNotMigrated(OrderHubError):
    code = "database_not_migrated"
    status = 503
    title = "The database needs migrating"
