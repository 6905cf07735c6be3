"""Batch requests: `multipart/mixed` of `application/http` parts, answered in kind.

Parts are parsed exactly as googleapiclient's `BatchHttpRequest` writes them
and each one is dispatched through the ordinary router (faults and stats
apply per part). A part without an Authorization header inherits the outer
one, as Google does. Response parts carry `Content-ID: <response-ID>`.
"""

from __future__ import annotations

import email.parser
import email.policy
import http
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from .errors import bad_request
from .wire import Request, Response

MAX_PARTS = 1000


@dataclass
class Part:
    content_id: str
    request: Request


def _split_parts(req: Request) -> list[tuple[str, str]]:
    content_type = req.header("content-type") or ""
    if "multipart/" not in content_type.lower() or "boundary" not in content_type.lower():
        raise bad_request("Batch requests must be multipart/mixed with a boundary.")
    raw = b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + req.body
    message = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(raw)
    if not message.is_multipart():
        raise bad_request("Batch request is not multipart.")
    parts = []
    for index, part in enumerate(message.get_payload(), start=1):
        payload = part.get_payload(decode=False)
        if isinstance(payload, list):
            raise bad_request("Nested multipart is not supported in a batch part.")
        parts.append((part.get("Content-ID") or f"<item{index}>", payload))
    return parts


def _parse_part(content_id: str, payload: str, outer: Request) -> Part:
    payload = payload.lstrip("\r\n")
    request_line, _, rest = payload.partition("\n")
    pieces = request_line.strip().split(" ")
    if len(pieces) < 2:
        raise bad_request(f"Invalid batch part request line: {request_line.strip()!r}")
    inner = email.parser.Parser(policy=email.policy.compat32).parsestr(rest)
    headers = {k: v for k, v in inner.items()}
    body = inner.get_payload()
    body_bytes = body.encode() if isinstance(body, str) else b""
    request = Request.from_target(pieces[0], pieces[1], headers, body_bytes, in_batch=True)
    if request.header("authorization") is None and outer.header("authorization"):
        request.headers["authorization"] = outer.header("authorization")
    return Part(content_id.strip(), request)


def parse(req: Request) -> list[Part]:
    """The parts of a batch request; 400 when malformed or over 1000 parts."""
    try:
        raw_parts = _split_parts(req)
    except (ValueError, TypeError, IndexError) as exc:
        raise bad_request("Malformed batch request.") from exc
    if len(raw_parts) > MAX_PARTS:
        raise bad_request(f"A batch request cannot contain more than {MAX_PARTS} calls.", "batchSizeTooLarge")
    return [_parse_part(cid, payload, req) for cid, payload in raw_parts]


def _response_id(content_id: str) -> str:
    inner = content_id[1:-1] if content_id.startswith("<") and content_id.endswith(">") else content_id
    return f"<response-{inner}>"


def _render_part(part: Part, response: Response) -> bytes:
    reason = (
        http.HTTPStatus(response.status).phrase
        if response.status in http.HTTPStatus._value2member_map_
        else ""
    )
    lines = [f"HTTP/1.1 {response.status} {reason}"]
    headers = {"Content-Type": "application/json; charset=UTF-8", **response.headers}
    headers["Content-Length"] = str(len(response.body))
    lines += [f"{name}: {value}" for name, value in headers.items()]
    inner = ("\r\n".join(lines) + "\r\n\r\n").encode() + response.body
    head = f"Content-Type: application/http\r\nContent-ID: {_response_id(part.content_id)}\r\n\r\n"
    return head.encode() + inner


def respond(parts: list[Part], dispatch: Callable[[Request], Response]) -> Response:
    """Run every part through `dispatch` and pack the answers as multipart/mixed."""
    boundary = "batch_" + secrets.token_hex(12)
    chunks = []
    for part in parts:
        chunks.append(
            b"--" + boundary.encode() + b"\r\n" + _render_part(part, dispatch(part.request)) + b"\r\n"
        )
    body = b"".join(chunks) + b"--" + boundary.encode() + b"--\r\n"
    return Response(200, body, {"Content-Type": f"multipart/mixed; boundary={boundary}"})
