"""The two Bot Connector calls every reply makes, sent straight onto the pooled HTTP sender.

`reply_to_activity` and `send_to_conversation` in botframework's ConversationsOperations build
a msrest request, run it through msrest's policy pipeline, serialise the activity with msrest
and deserialise the answer with it: about a sixth of a whole turn's CPU. Here the same request
is made with less machinery: the same URL and headers (Accept, Content-Type,
x-ms-conversation-id, User-Agent, and Authorization from the credentials, exactly as
BearerTokenPolicy puts it), the body from the client's serializer (FastSerializer), the same PooledHttpSender
(retries, Retry-After) and, for a non-2xx answer, the same ErrorResponseException. Calls with
custom headers, `raw` or operation options, and every other operation, take the stock path.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urljoin

from botbuilder.schema import Activity
from botframework.connector import models
from botframework.connector.aio.operations_async import ConversationsOperations
from botframework.connector.auth import AppCredentials
from msrest.pipeline import Request
from msrest.universal_http import ClientRequest

from bot.plain_json import dump_json

if TYPE_CHECKING:
    from bot.transport.http_sender import PooledHttpSender

CONVERSATIONS = "v3/conversations/"
# Path segments that urljoin drops or resolves instead of appending them.
DOT_SEGMENTS = frozenset({"", ".", ".."})


class _HeaderBag:
    """Stands in for the requests.Session that AppCredentials.signed_session() writes into."""

    __slots__ = ("headers",)

    def __init__(self) -> None:
        self.headers: dict[str, str] = {}


def bearer_header(credentials: AppCredentials) -> str | None:
    """The Authorization header the credentials want now, exactly as signed_session() decides.

    No app id: no header. Otherwise "Bearer <token>" from get_access_token(), which MSAL answers
    from its cache until the token nears expiry.
    """
    bag = _HeaderBag()
    credentials.signed_session(bag)  # type: ignore[arg-type]
    return bag.headers.get("Authorization")


class PooledConversations(ConversationsOperations):
    """ConversationsOperations whose reply and send calls skip msrest's pipeline."""

    def __init__(
        self,
        client: Any,
        config: Any,
        serializer: Any,
        deserializer: Any,
        *,
        credentials: AppCredentials,
        sender: PooledHttpSender,
        user_agent: str,
    ) -> None:
        super().__init__(client, config, serializer, deserializer)
        self._credentials = credentials
        self._sender = sender
        self._user_agent = user_agent
        self._base = str(config.base_url).rstrip("/") + "/"
        # urljoin of the base and a relative path, done once: when it only appends (a plain base),
        # each call's URL is that prefix and the quoted ids, with no parsing of the base.
        joined = urljoin(self._base, CONVERSATIONS)
        self._conversations = joined if joined == self._base + CONVERSATIONS else None

    async def reply_to_activity(  # type: ignore[override]
        self,
        conversation_id: str,
        activity_id: str,
        activity: Activity,
        *,
        custom_headers: dict[str, str] | None = None,
        raw: bool = False,
        **operation_config: Any,
    ) -> Any:
        if custom_headers or raw or operation_config or not isinstance(activity, Activity):
            return await super().reply_to_activity(
                conversation_id, activity_id, activity, custom_headers=custom_headers, raw=raw, **operation_config
            )
        url = self._url(quote(str(conversation_id), safe=""), quote(str(activity_id), safe=""))
        return await self._post(url, activity, {"x-ms-conversation-id": conversation_id})

    async def send_to_conversation(  # type: ignore[override]
        self,
        conversation_id: str,
        activity: Activity,
        *,
        custom_headers: dict[str, str] | None = None,
        raw: bool = False,
        **operation_config: Any,
    ) -> Any:
        if custom_headers or raw or operation_config or not isinstance(activity, Activity):
            return await super().send_to_conversation(
                conversation_id, activity, custom_headers=custom_headers, raw=raw, **operation_config
            )
        return await self._post(self._url(quote(str(conversation_id), safe="")), activity, {})

    def _url(self, conversation: str, activity: str | None = None) -> str:
        """The URL of the conversation's activities, or of one activity: urljoin(base, path), as msrest builds it."""
        path = f"{conversation}/activities" if activity is None else f"{conversation}/activities/{activity}"
        if self._conversations is not None and conversation not in DOT_SEGMENTS and activity not in DOT_SEGMENTS:
            # The ids are quoted with safe="": no '/', '?' or '#' in them, so the join only appends.
            return self._conversations + path
        return urljoin(self._base, CONVERSATIONS + path)

    async def _post(self, url: str, activity: Activity, extra: dict[str, str]) -> models.ResourceResponse | None:
        request = ClientRequest("POST", url)
        request.headers = {  # type: ignore[assignment]  # msrest reads it as a mapping
            "Accept": "application/json",
            "Content-Type": "application/json; charset=utf-8",
            **extra,  # reply_to_activity names the conversation in a header too; send_to_conversation does not
            "User-Agent": self._user_agent,
        }
        authorization = bearer_header(self._credentials)
        if authorization:
            request.headers["Authorization"] = authorization
        request.data = dump_json(self._serialize.body(activity, "Activity"))
        response = (await self._sender.send(Request(request))).http_response
        if response.status_code not in (200, 201, 202):
            raise models.ErrorResponseException(self._deserialize, response)
        try:
            body = json.loads(response.text() or "null")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return None
        return models.ResourceResponse(id=body.get("id"))
