"""Teams-shaped activities as the Bot Connector posts them (JSON, camelCase)."""

from __future__ import annotations

import uuid
from typing import Any


def message(service_url: str, text: str = "Får jag arbeta hemifrån?", **extra: Any) -> dict[str, Any]:
    activity: dict[str, Any] = {
        "type": "message",
        "id": uuid.uuid4().hex,
        "timestamp": "2026-11-23T09:00:00.000Z",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {"id": "29:user-1", "name": "Anna", "aadObjectId": "00000000-0000-0000-0000-00000000e001"},
        "conversation": {"id": "a:personal-1", "conversationType": "personal", "tenantId": "t1"},
        "recipient": {"id": "28:guidance-bot", "name": "Distansstöd"},
        "text": text,
        "locale": "sv-SE",
        "channelData": {"tenant": {"id": "t1"}},
    }
    activity.update(extra)
    return activity
