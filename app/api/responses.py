"""OpenAPI documentation of error answers: `responses(401, 404, 503)` for a route's `responses=` argument,
so the spec lists every status a route can return (checked by the schema fuzzer in the tests)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

_MEANING = {
    400: "The request is invalid; `errors[].field` or `field` names what is wrong.",
    401: "Missing or unknown key.",
    403: "The key's role may not do this.",
    404: "No such resource.",
    409: "The resource is not in a state that allows this change.",
    413: "The body is too large.",
    422: "The request does not match the documented schema.",
    500: "The service is misconfigured (for example the broker refuses the topic: unknown or not authorised); "
         "`error` names the cause and `reason` its kind. Retrying will not help until it is fixed.",
    503: "A dependency (graph or broker) is unavailable; safe to retry after `Retry-After`.",
}


class ErrorBody(BaseModel):
    """The body of every error answer."""

    success: bool = False
    error: str
    field: str | None = None
    reason: str | None = None


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the given error statuses."""
    return {code: {"model": ErrorBody, "description": _MEANING.get(code, "Error.")} for code in codes}


def json_body(schema: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    """`openapi_extra` declaring the JSON request body of a route that reads the raw body itself."""
    return {"requestBody": {"required": required, "content": {"application/json": {"schema": schema}}}}
