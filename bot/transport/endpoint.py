"""POST /api/messages: check the request before botbuilder sees it, so bad input never gets a 500."""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web
from botbuilder.core import Bot, serializer_helper
from botbuilder.schema import Activity
from msrest.exceptions import DeserializationError, SerializationError
from msrest.serialization import Model

from bot.plain_json import load_json
from bot.transport.activity_codec import activity_from_dict
from bot.transport.channel import ChannelGateway
from bot.transport.fast_auth import AuthUnavailable

log = logging.getLogger(__name__)


def _problem(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


def parse_activity(body: bytes) -> Activity | web.Response:
    """The activity in `body`, or the 4xx response that says what is wrong with it."""
    try:
        payload: Any = load_json(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _problem(400, "body is not valid JSON")
    if not isinstance(payload, dict):
        return _problem(400, "body must be a JSON object (an activity)")
    if not isinstance(payload.get("type"), str) or not payload["type"]:
        return _problem(400, "activity has no type")
    service_url = payload.get("serviceUrl")
    if not isinstance(service_url, str) or not service_url.startswith(("http://", "https://")):
        return _problem(400, "activity has no valid serviceUrl")
    conversation = payload.get("conversation")
    if not isinstance(conversation, dict) or not isinstance(conversation.get("id"), str):
        return _problem(400, "activity has no conversation id")
    sender = payload.get("from")
    if payload["type"] in ("message", "invoke") and not (
        isinstance(sender, dict) and isinstance(sender.get("id"), str) and sender["id"]
    ):
        return _problem(400, "activity has no sender (from.id)")
    try:
        activity = activity_from_dict(payload)
    except (DeserializationError, TypeError, ValueError, AttributeError) as exc:
        return _problem(400, f"activity could not be read: {type(exc).__name__}")
    if not isinstance(activity.text, str | None) or not isinstance(activity.locale, str | None):
        return _problem(400, "activity has fields of the wrong type")
    return activity


def _invoke_answer(status: int, body: object) -> web.Response:
    """An invoke's answer as JSON; a body that cannot be written is reported, not turned into a 500."""
    try:
        payload = serializer_helper(body) if isinstance(body, Model) else body
        return web.json_response(payload, status=status)
    except (TypeError, ValueError, SerializationError) as exc:
        log.warning("invoke answer not serialisable", extra={"status": status, "error": type(exc).__name__})
        return web.json_response({"error": "invoke answer could not be written"}, status=status)


def messages_handler(gateway: ChannelGateway, bot: Bot, max_body_bytes: int):
    """The aiohttp handler for the Bot Framework messaging endpoint."""

    async def handle(request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > max_body_bytes:
            return _problem(413, f"body larger than {max_body_bytes} bytes")
        if "application/json" not in request.headers.get("Content-Type", ""):
            return _problem(415, "Content-Type must be application/json")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _problem(413, f"body larger than {max_body_bytes} bytes")
        if len(body) > max_body_bytes:
            return _problem(413, f"body larger than {max_body_bytes} bytes")
        parsed = parse_activity(body)
        if isinstance(parsed, web.Response):
            log.info("request rejected", extra={"status": parsed.status})
            return parsed
        auth_header = request.headers.get("Authorization", "")
        try:
            invoke_response = await gateway.process(auth_header, parsed, bot.on_turn, body)
        except PermissionError:
            return _problem(401, "missing or invalid Bot Framework token")
        except AuthUnavailable as exc:
            log.warning("token could not be checked", extra={"reason": str(exc)[:100]})
            response = _problem(503, "the token cannot be checked now; try again later")
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        except Exception:
            log.exception("activity processing failed", extra={"activity_type": parsed.type})
            return _problem(500, "the bot failed to process the activity")
        if invoke_response:
            return _invoke_answer(invoke_response.status, invoke_response.body)
        return web.Response(status=201)

    return handle
