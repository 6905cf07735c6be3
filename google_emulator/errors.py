"""Google's JSON error bodies, raised as exceptions by handlers."""

from __future__ import annotations

from typing import Any

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    410: "FAILED_PRECONDITION",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}

UNAUTHENTICATED_MESSAGE = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, "
    "login cookie or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project."
)


class ApiError(Exception):
    """An API failure that renders as Google's `{"error": {...}}` body."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        domain: str = "global",
        location: str | None = None,
        location_type: str | None = None,
        headers: dict[str, str] | None = None,
        item_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.domain = domain
        self.location = location
        self.location_type = location_type
        self.headers = headers or {}
        self.item_message = item_message or message

    def body(self) -> dict[str, Any]:
        """The JSON body Google would send for this error."""
        item: dict[str, Any] = {"domain": self.domain, "reason": self.reason, "message": self.item_message}
        if self.location:
            item["location"] = self.location
            item["locationType"] = self.location_type or "parameter"
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "errors": [item],
                "status": STATUS_NAMES.get(self.code, "UNKNOWN"),
            }
        }


def bad_request(message: str, reason: str = "invalid", *, location: str | None = None) -> ApiError:
    return ApiError(400, reason, message, location=location)


def required(message: str, *, location: str | None = None) -> ApiError:
    return ApiError(400, "required", message, location=location)


def not_found() -> ApiError:
    return ApiError(404, "notFound", "Not Found")


def deleted() -> ApiError:
    return ApiError(410, "deleted", "Resource has been deleted")


def full_sync_required() -> ApiError:
    return ApiError(410, "fullSyncRequired", "Sync token is no longer valid, a full sync is required.")


def precondition_failed() -> ApiError:
    return ApiError(
        412, "conditionNotMet", "Precondition Failed", location="If-Match", location_type="header"
    )


def duplicate() -> ApiError:
    return ApiError(409, "duplicate", "The requested identifier already exists.")


def required_access(level: str) -> ApiError:
    return ApiError(
        403, "requiredAccessLevel", f"You need to have {level} access to this calendar.", domain="calendar"
    )


def insufficient_scopes() -> ApiError:
    return ApiError(403, "insufficientPermissions", "Request had insufficient authentication scopes.")


def unauthenticated() -> ApiError:
    return ApiError(
        401,
        "authError",
        UNAUTHENTICATED_MESSAGE,
        location="Authorization",
        location_type="header",
        headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'},
        item_message="Invalid Credentials",
    )
