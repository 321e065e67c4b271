"""bot.transport.activity_codec reads and writes activities exactly as msrest does, only faster."""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import botbuilder.schema
import pytest
from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import (
    ActionTypes,
    Activity,
    ActivityTypes,
    Attachment,
    CardAction,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
    Entity,
    HeroCard,
    InputHints,
    Mention,
    RoleTypes,
    TextFormatTypes,
)
from botbuilder.schema.teams import NotificationInfo, TeamInfo, TeamsChannelData, TenantInfo
from botframework.connector import models
from botframework.connector.auth import MicrosoftAppCredentials
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from isodate.tzinfo import UTC as ISODATE_UTC
from isodate.tzinfo import FixedOffset
from msrest import Serializer
from msrest.exceptions import DeserializationError
from msrest.serialization import Deserializer, Model

from bot.conversation.cards import answer_activity, ask_action
from bot.transport import activity_codec
from bot.transport.activity_codec import activity_from_dict, activity_to_dict, format_iso, parse_iso
from bot.transport.connector_pool import ConnectorPool, FastSerializer
from bot.transport.endpoint import parse_activity
from bot.transport.local_connector import LocalConnector
from tests.activities import message

SERVICE_URL = "https://smba.trafficmanager.net/emea/"
CLIENT_MODELS = {k: v for k, v in models.__dict__.items() if isinstance(v, type)}
STOCK = Serializer({**{k: v for k, v in botbuilder.schema.__dict__.items() if isinstance(v, type)}, **CLIENT_MODELS})
ADDRESS = re.compile(r" at 0x[0-9a-f]+")
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---- comparing results strictly ---------------------------------------------------------------


def assert_same(fast: Any, slow: Any, path: str = "$") -> None:
    """Equal and of the same types all the way down (1, 1.0 and True differ); NaN equals NaN."""
    assert type(fast) is type(slow), f"{path}: {type(fast).__name__} != {type(slow).__name__}"
    if isinstance(slow, Model):
        assert_same(vars(fast), vars(slow), path)
    elif isinstance(slow, dict):
        assert fast.keys() == slow.keys(), path
        for key in slow:
            assert_same(fast[key], slow[key], f"{path}.{key}")
    elif isinstance(slow, list | tuple):
        assert len(fast) == len(slow), path
        for i, (f, s) in enumerate(zip(fast, slow, strict=True)):
            assert_same(f, s, f"{path}[{i}]")
    elif isinstance(slow, datetime):
        assert_same_datetime(fast, slow, path)
    elif isinstance(slow, float) and math.isnan(slow):
        assert math.isnan(fast), path
    elif isinstance(slow, str):
        # msrest writes str() of whatever a str field holds: a model there shows its copy's address.
        assert ADDRESS.sub("", fast) == ADDRESS.sub("", slow), path
    else:
        assert fast == slow, path


def assert_same_datetime(fast: datetime, slow: datetime, path: str) -> None:
    fields = ("year", "month", "day", "hour", "minute", "second", "microsecond", "fold")
    assert [getattr(fast, f) for f in fields] == [getattr(slow, f) for f in fields], path
    assert type(fast.tzinfo) is type(slow.tzinfo), path
    assert (fast.utcoffset(), fast.tzname(), fast.dst()) == (slow.utcoffset(), slow.tzname(), slow.dst()), path


def outcome(fn: Callable[..., Any], *args: Any) -> tuple[Any, Exception | None]:
    try:
        return fn(*args), None
    except Exception as exc:
        return None, exc


def check_inbound(payload: Any) -> None:
    """activity_from_dict gives what Activity().deserialize gives, or raises what it raises."""
    slow, error = outcome(Activity().deserialize, copy.deepcopy(payload))
    if error is not None:
        with pytest.raises(type(error)):
            activity_from_dict(copy.deepcopy(payload))
        return
    fast = activity_from_dict(copy.deepcopy(payload))
    assert_same(fast, slow)
    assert fast == slow
    for view in ("serialize", "as_dict"):
        fast_view, fast_error = outcome(getattr(fast, view))
        slow_view, slow_error = outcome(getattr(slow, view))
        assert type(fast_error) is type(slow_error)
        if slow_error is None:
            assert_same(fast_view, slow_view)


def check_outbound(activity: Activity) -> None:
    """activity_to_dict writes what a stock msrest Serializer's body() writes, or raises what it raises."""
    slow, error = outcome(STOCK.body, copy.deepcopy(activity), "Activity")
    if error is not None:
        with pytest.raises(type(error)):
            activity_to_dict(copy.deepcopy(activity))
        return
    assert_same(activity_to_dict(copy.deepcopy(activity)), slow)
    pooled, _ = outcome(FastSerializer(CLIENT_MODELS).body, copy.deepcopy(activity), "Activity")
    assert_same(pooled, slow)


def no_fallback(activity: Activity) -> Any:
    raise AssertionError("the fast path gave up on an everyday activity")


# ---- activities as Teams posts them ----------------------------------------------------------

TENANT = {"id": "72f988bf-86f1-41af-91ab-2d7cd011db47"}
TEAM = {"id": "19:team-general@thread.tacv2", "name": "HR", "aadGroupId": "02ce3874-dd86-41ba-bddc-013f34019978"}
CHANNEL = {"id": "19:remote-work@thread.tacv2", "name": "Distans"}
BOT = {"id": "28:guidance-bot", "name": "Distansstöd"}
USER = {"id": "29:1a2b3c", "name": "Anna Andersson", "aadObjectId": "00000000-0000-0000-0000-00000000e001"}


def teams_activity(**fields: Any) -> dict[str, Any]:
    base = {
        "type": "message",
        "id": "1732352400000",
        "timestamp": "2026-11-23T09:00:00.1234567Z",
        "localTimestamp": "2026-11-23T10:00:00.1234567+01:00",
        "localTimezone": "Europe/Stockholm",
        "serviceUrl": SERVICE_URL,
        "channelId": "msteams",
        "from": USER,
        "conversation": {"conversationType": "personal", "tenantId": TENANT["id"], "id": "a:1personal"},
        "recipient": BOT,
        "locale": "sv-SE",
        "channelData": {"tenant": TENANT},
    }
    base.update(fields)
    return base


CHANNEL_MESSAGE = teams_activity(
    text="<at>Distansstöd</at> Får jag jobba hemma på fredag?",
    textFormat="plain",
    conversation={
        "isGroup": True,
        "conversationType": "channel",
        "tenantId": TENANT["id"],
        "id": "19:remote-work@thread.tacv2;messageid=1732352400000",
    },
    attachments=[
        {"contentType": "text/html", "content": "<div><at>Distansstöd</at> Får jag jobba hemma på fredag?</div>"}
    ],
    entities=[
        {"mentioned": BOT, "text": "<at>Distansstöd</at>", "type": "mention"},
        {
            "locale": "sv-SE",
            "country": "SE",
            "platform": "Windows",
            "timezone": "Europe/Stockholm",
            "type": "clientInfo",
        },
    ],
    channelData={
        "teamsChannelId": CHANNEL["id"],
        "teamsTeamId": TEAM["id"],
        "channel": CHANNEL,
        "team": TEAM,
        "tenant": TENANT,
    },
)

REALISTIC: dict[str, dict[str, Any]] = {
    "personal message": message(SERVICE_URL),
    "personal message, client info": teams_activity(
        text="Måste jag ha VPN?",
        textFormat="plain",
        entities=[{"locale": "sv-SE", "country": "SE", "platform": "Web", "type": "clientInfo"}],
    ),
    "channel message with a mention": CHANNEL_MESSAGE,
    "members added": teams_activity(
        type="conversationUpdate",
        timestamp="2026-11-23T09:00:00.5+00:00",
        localTimestamp=None,
        membersAdded=[{"id": BOT["id"]}, {"id": USER["id"], "aadObjectId": USER["aadObjectId"]}],
        channelData={
            "tenant": TENANT,
            "team": TEAM,
            "eventType": "teamMemberAdded",
            "settings": {"selectedChannel": CHANNEL},
        },
    ),
    "members removed": teams_activity(
        type="conversationUpdate", membersRemoved=[{"id": USER["id"]}], channelData={"eventType": "teamMemberRemoved"}
    ),
    "installation": teams_activity(type="installationUpdate", action="add", timestamp="2026-11-23T09:00:00Z"),
    "uninstall": teams_activity(type="installationUpdate", action="remove", timestamp="2026-11-23T09:00:00.000-05:30"),
    "invoke with value": teams_activity(
        type="invoke",
        name="adaptiveCard/action",
        replyToId="1:card",
        value={
            "action": {"type": "Action.Execute", "verb": "feedback", "data": {"helpful": True, "entry_id": "e1"}},
            "trigger": "manual",
        },
    ),
    "card submit": teams_activity(
        replyToId="1:card",
        value={
            "action": "feedback",
            "helpful": False,
            "entry_id": "e1",
            "question": "Får jag?",
            "lang": "sv",
            "n": 2.5,
        },
        channelData={"tenant": TENANT, "source": {"name": "message"}, "legacy": {"replyToId": "1:legacy"}},
    ),
    "message back": teams_activity(
        text="Måste jag ha VPN?",
        value={"action": "ask", "question": "Måste jag ha VPN?"},
        channelData={"tenant": TENANT, "source": {"name": "messageBack"}},
    ),
    "attachments": teams_activity(
        text="Här är filen",
        attachments=[
            {
                "contentType": "application/vnd.microsoft.teams.file.download.info",
                "contentUrl": "https://contoso.sharepoint.com/a.pdf",
                "name": "a.pdf",
                "content": {"downloadUrl": "https://download/a.pdf", "uniqueId": "u1", "fileType": "pdf"},
            },
            {"contentType": "image/*", "contentUrl": "https://smba/img.png", "thumbnailUrl": "https://smba/t.png"},
        ],
    ),
    "reaction": teams_activity(type="messageReaction", replyToId="1:x", reactionsAdded=[{"type": "like"}]),
    "every field": teams_activity(
        id="a1",
        text="x",
        speak="x",
        inputHint="expectingInput",
        summary="s",
        topicName="t",
        historyDisclosed=True,
        attachmentLayout="carousel",
        suggestedActions={"to": ["29:1"], "actions": [{"type": "imBack", "title": "Ja", "value": "ja", "image": None}]},
        relatesTo={
            "activityId": "1",
            "user": USER,
            "bot": {**BOT, "role": "bot"},
            "conversation": {"id": "c", "isGroup": False, "properties": {"a": [1, 2.5, None]}},
            "channelId": "msteams",
            "serviceUrl": SERVICE_URL,
            "locale": "sv-SE",
        },
        expiration="2026-11-24T09:00:00+0100",
        importance="high",
        deliveryMode="normal",
        listenFor=["ja", "nej"],
        textHighlights=[{"text": "x", "occurrence": 1}],
        semanticAction={"id": "s1", "state": "start", "entities": {"e": {"type": "thing", "extra": [1]}}},
        callerId="urn:botframework:azure",
        code="completedSuccessfully",
        label="l",
        valueType="v",
        reactionsRemoved=[{"type": "heart"}],
        **{"from": {**USER, "role": "user", "properties": {"x": {"y": None}}}},
    ),
    "minimal": {"type": "message", "serviceUrl": SERVICE_URL, "conversation": {"id": "c"}},
    "timestamp without fraction, offset +05": teams_activity(timestamp="2026-11-23T09:00:00+05"),
    "unknown top-level keys": teams_activity(futureField={"a": 1}, **{"odd.key": 1, "": None}),
}

# Valid for msrest, but shapes the fast path leaves to it.
MSREST_DECIDES = {
    "bool as text": teams_activity(historyDisclosed="true"),
    "comma fraction": teams_activity(timestamp="2026-11-23T09:00:00,5Z"),
    "lower-case zone": teams_activity(timestamp="2026-11-23t09:00:00z"),
    "month zero": teams_activity(timestamp="2026-00-23T09:00:00Z"),
    "entities as a dict of dicts": teams_activity(entities={"a": {"type": "x"}}),
}
ERRORS = {
    "entities as text": teams_activity(entities="x"),
    "from as a list": teams_activity(**{"from": [USER]}),
    "timestamp as a number": teams_activity(timestamp=1732352400),
    "timestamp not a date": teams_activity(timestamp="yesterday"),
    "timestamp out of range": teams_activity(timestamp="9999-12-31T23:59:59-01:00"),
    "bad offset": teams_activity(timestamp="2026-11-23T09:00:00+25:00"),
    "no such day": teams_activity(timestamp="2026-02-30T09:00:00Z"),
    "value not JSON": teams_activity(value={"a": {1, 2}}),
}


# ---- reading ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REALISTIC) + sorted(MSREST_DECIDES) + sorted(ERRORS))
def test_reads_as_msrest_reads(name: str) -> None:
    check_inbound({**REALISTIC, **MSREST_DECIDES, **ERRORS}[name])


@pytest.mark.parametrize("name", sorted(REALISTIC))
def test_everyday_activities_are_read_without_msrest(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = Activity().deserialize(copy.deepcopy(REALISTIC[name]))

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("fell back to msrest")

    monkeypatch.setattr(Activity, "deserialize", refuse)
    assert activity_from_dict(copy.deepcopy(REALISTIC[name])) == expected


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_surface_as_msrest_errors(name: str) -> None:
    with pytest.raises(DeserializationError):
        activity_from_dict(copy.deepcopy(ERRORS[name]))


def test_a_mention_keeps_its_extra_properties_on_the_entity() -> None:
    activity = activity_from_dict(copy.deepcopy(CHANNEL_MESSAGE))
    mention = activity.entities[0]
    assert type(mention) is Entity
    assert mention.additional_properties == {"mentioned": BOT, "text": "<at>Distansstöd</at>"}
    # The map says "tenantID"; Teams sends "tenantId", which msrest (case-sensitive) keeps as an extra.
    assert activity.conversation.tenant_id is None
    assert activity.conversation.additional_properties == {"tenantId": TENANT["id"]}
    assert activity.from_property.additional_properties == {}
    assert [m.additional_properties["mentioned"]["id"] for m in TurnContext.get_mentions(activity)] == [BOT["id"]]
    TurnContext.remove_recipient_mention(activity)
    assert activity.text.strip() == "Får jag jobba hemma på fredag?"


def test_unknown_keys_stay_on_the_activity() -> None:
    activity = activity_from_dict(copy.deepcopy(REALISTIC["unknown top-level keys"]))
    assert activity.additional_properties == {"futureField": {"a": 1}, "odd.key": 1, "": None}


def test_parse_activity_reads_through_the_codec_and_keeps_its_answers() -> None:
    parsed = parse_activity(json.dumps(CHANNEL_MESSAGE).encode())
    assert isinstance(parsed, Activity)
    assert parsed == Activity().deserialize(copy.deepcopy(CHANNEL_MESSAGE))
    rejected = parse_activity(json.dumps(ERRORS["entities as text"]).encode())
    assert not isinstance(rejected, Activity)
    assert rejected.status == 400
    assert json.loads(rejected.text or "") == {"error": "activity could not be read: DeserializationError"}
    odd = parse_activity(json.dumps(teams_activity(text=["x"])).encode())
    assert isinstance(odd, Activity)
    assert odd.text == "['x']"  # msrest's str() of whatever a str field holds, as before


# ---- mutated activities -----------------------------------------------------------------------

short_text = st.text(max_size=8)
json_scalars = (
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats() | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(short_text, inner, max_size=4),
    max_leaves=12,
)


@st.composite
def iso_like(draw: st.DrawFn) -> str:
    """Date-times near the shapes msrest and isodate accept, with every part sometimes out of range."""
    year = draw(st.integers(0, 10000))
    month, day = draw(st.integers(0, 13)), draw(st.integers(0, 32))
    hour, minute, second = draw(st.integers(0, 25)), draw(st.integers(0, 61)), draw(st.integers(0, 61))
    fraction = draw(st.sampled_from(["", ".", ","])) + draw(st.text("0123456789", max_size=9))
    separator = draw(st.sampled_from("TTTt "))
    zone = draw(
        st.sampled_from(
            [
                *("", "Z", "z", "+00:00", "-00:00", "+01:00", "-05:30", "+0530", "+05", "+14:00", "-23:59"),
                *("+24:00", "+99:99", "+05:", "+5", "Z+01:00", "+01:00:00"),
            ]
        )
    )
    tail = draw(st.sampled_from(["", "", "", " ", "x", "\n"]))
    return f"{year:04d}-{month:02d}-{day:02d}{separator}{hour:02d}:{minute:02d}:{second:02d}{fraction}{zone}{tail}"


iso_strings = iso_like() | st.from_regex(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d.{0,8}", fullmatch=True) | short_text

KNOWN_KEYS = sorted(
    {
        desc["key"]
        for model in (Activity, ChannelAccount, ConversationAccount, Attachment, Entity, ConversationReference)
        for desc in model._attribute_map.values()
    }
)
NEW_VALUES = (
    json_values
    | iso_strings
    | st.sampled_from([{"id": 5}, [1], "x", 1.5, True, 0, [None], [{"type": None}], {"id": None}, {}, []])
)


def new_value(draw: st.DrawFn) -> Any:
    return copy.deepcopy(draw(NEW_VALUES))  # later mutations must not change the strategy's constants


def containers(node: Any) -> Iterator[Any]:
    """Every dict and list in a JSON tree, the tree itself first."""
    if isinstance(node, dict | list):
        yield node
        for child in node.values() if isinstance(node, dict) else node:
            yield from containers(child)


@st.composite
def mutated_payloads(draw: st.DrawFn) -> dict[str, Any]:
    payload = copy.deepcopy(draw(st.sampled_from(list(REALISTIC.values()))))
    for _ in range(draw(st.integers(1, 4))):
        node = draw(st.sampled_from(list(containers(payload))))
        if isinstance(node, list):
            if len(node) > 0 and draw(st.booleans()):
                node[draw(st.integers(0, len(node) - 1))] = new_value(draw)
            else:
                node.append(new_value(draw))
            continue
        key = draw(st.sampled_from(sorted(node) or ["type"]) | st.sampled_from(KNOWN_KEYS) | short_text)
        if draw(st.integers(0, 5)) == 0:
            node.pop(key, None)
        else:
            node[key] = new_value(draw)
    return payload


@FUZZ
@given(mutated_payloads())
def test_mutated_activities_read_as_msrest_reads(payload: dict[str, Any]) -> None:
    check_inbound(payload)


@FUZZ
@given(st.sampled_from(["timestamp", "localTimestamp", "expiration"]), iso_strings)
def test_any_timestamp_reads_as_msrest_reads(key: str, text: str) -> None:
    check_inbound(teams_activity(**{key: text}))


def check_parse_iso(text: str) -> None:
    expected, error = outcome(Deserializer.deserialize_iso, text)
    if error is not None:
        with pytest.raises(type(error)):
            parse_iso(text)
    else:
        assert_same(parse_iso(text), expected)


@settings(max_examples=1000, deadline=None)
@given(iso_strings)
def test_parse_iso_is_msrest_deserialize_iso(text: str) -> None:
    check_parse_iso(text)


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:30:00+01:00",  # before year 1 in UTC
        "0001-01-01T05:00:00-01:00",
        "0002-01-01T00:00:00+23:00",
        "9998-12-31T23:00:00-23:00",
        "9999-12-31T23:00:00-02:00",  # after year 9999 in UTC
        "9999-12-31T23:00:00+02:00",
        "2026-01-01T00:00:00+23:59",
        "2026-01-01T00:00:00+24:00",  # an offset of a day or more
        "2026-01-01T00:00:00+99:99",
        "2026-01-01T00:00:00-00:00",
    ],
)
def test_parse_iso_at_the_edges_of_the_range_is_msrest_deserialize_iso(text: str) -> None:
    """The short cut past the UTC range check holds only strictly inside it."""
    check_parse_iso(text)


ZONES = [
    UTC,
    timezone(timedelta(hours=2)),
    timezone(timedelta(hours=-5, minutes=-30)),
    ISODATE_UTC,
    FixedOffset(1, 0, "+01:00"),
]


@settings(max_examples=500, deadline=None)
@given(st.datetimes(timezones=st.sampled_from(ZONES)))
def test_format_iso_is_msrest_serialize_iso(value: datetime) -> None:
    expected, error = outcome(Serializer.serialize_iso, value)
    if error is None:
        assert format_iso(value) == expected
    else:
        with pytest.raises((activity_codec._Unsupported, OverflowError)):  # the codec then leaves it to msrest
            format_iso(value)


# ---- writing ----------------------------------------------------------------------------------


def incoming_reference() -> tuple[Activity, ConversationReference]:
    incoming = activity_from_dict(copy.deepcopy(CHANNEL_MESSAGE))
    return incoming, TurnContext.get_conversation_reference(incoming)


def real_replies() -> dict[str, Activity]:
    """What the bot sends, addressed as botbuilder addresses a reply."""
    incoming, reference = incoming_reference()
    mention = MessageFactory.text("<at>Anna Andersson</at> hej")
    mention.entities = [
        Mention(
            mentioned=ChannelAccount(id=USER["id"], name=USER["name"]), text="<at>Anna Andersson</at>", type="mention"
        )
    ]
    notify = MessageFactory.text("Påminnelse")
    notify.channel_data = TeamsChannelData(
        notification=NotificationInfo(alert=True), tenant=TenantInfo(id=TENANT["id"]), team=TeamInfo(id=TEAM["id"])
    )
    replies = {
        "answer card": answer_activity(
            "Ja, du får arbeta hemifrån två dagar i veckan.\nKälla: Riktlinjer för distansarbete\nGäller från 2026-01-01",
            "sv",
            ["Måste jag ha VPN?", "Vem betalar för min skärm hemma?", "Får jag ta med kontorsstolen hem?"],
            answered=True,
            entry_id="remote-work-days",
            question="Får jag jobba hemma på fredag?",
        ),
        "no answer card": answer_activity(
            "I found no answer.",
            "en",
            ["Can I work from home?"],
            answered=False,
            entry_id=None,
            question="?",
            extra_actions=[ask_action("Can I work from home?")],
        ),
        "text": MessageFactory.text("Hej!", speak="Hej!", input_hint=InputHints.accepting_input),
        "hero card": MessageFactory.attachment(
            CardFactory.hero_card(
                HeroCard(
                    title="Distansarbete",
                    text="Läs mer",
                    buttons=[CardAction(type=ActionTypes.open_url, title="Öppna", value="https://intranet/remote")],
                )
            )
        ),
        "suggested actions": MessageFactory.suggested_actions(
            [CardAction(type=ActionTypes.im_back, title=t, value=t) for t in ("Ja", "Nej")], text="Hjälpte svaret?"
        ),
        "typing": Activity(type=ActivityTypes.typing),
        "mention": mention,
        "notification": notify,
        "create_reply": incoming.create_reply("Svar"),
    }
    for reply in replies.values():
        TurnContext.apply_conversation_reference(reply, reference)
    return replies


REPLIES = real_replies()


@pytest.mark.parametrize("name", sorted(REPLIES))
def test_real_replies_are_written_as_msrest_writes_them(name: str) -> None:
    reply = REPLIES[name]
    check_outbound(reply)
    assert_same(
        activity_to_dict(copy.deepcopy(reply), fallback=no_fallback), STOCK.body(copy.deepcopy(reply), "Activity")
    )


def test_the_pooled_serializer_writes_replies_without_msrest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FastSerializer, "_msrest_activity_body", no_fallback)
    serializer = FastSerializer(CLIENT_MODELS)
    for reply in REPLIES.values():
        assert_same(serializer.body(copy.deepcopy(reply), "Activity"), STOCK.body(copy.deepcopy(reply), "Activity"))


def test_what_the_fast_path_leaves_to_msrest_is_still_written_by_msrest() -> None:
    naive = copy.deepcopy(REPLIES["text"])
    naive.timestamp = datetime(2026, 11, 23, 9, 0)  # msrest warns about it: its own path, so it warns once
    as_dicts = copy.deepcopy(REPLIES["text"])
    as_dicts.entities = [{"type": "mention", "text": "x"}]  # msrest's body turns them into Entity models first
    as_tuple = copy.deepcopy(REPLIES["text"])
    as_tuple.listen_for = ("ja",)
    for activity in (naive, as_dicts, as_tuple):
        check_outbound(activity)
        with pytest.raises(AssertionError, match="gave up"):
            activity_to_dict(copy.deepcopy(activity), fallback=no_fallback)


class Extensible(Model):
    _attribute_map = {  # noqa: RUF012 - msrest's own (unannotated) shape
        "id": {"key": "id", "type": "str"},
        "when": {"key": "when", "type": "iso-8601"},
    }

    def __init__(self, *, id: str | None = None, when: datetime | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.id = id
        self.when = when


def test_plans_are_built_once_and_follow_a_changed_map() -> None:
    assert activity_codec._encoder_for(Activity) is activity_codec._encoder_for(Activity)
    assert activity_codec._decoder_for(Activity) is activity_codec._decoder_for(Activity)
    reply = copy.deepcopy(REPLIES["text"])
    reply.channel_data = Extensible(id="x", when=datetime(2026, 11, 23, 9, 0, 0, 120000, tzinfo=UTC))
    reply.channel_data.additional_properties = {"id": "from extras", "extra": [1]}
    check_outbound(reply)
    before = activity_codec._encoder_for(Extensible)
    Extensible.enable_additional_properties_sending()  # msrest now merges additional_properties
    assert activity_codec._encoder_for(Extensible) is not before
    check_outbound(reply)
    assert activity_to_dict(copy.deepcopy(reply))["channelData"] == {
        "id": "from extras",
        "when": "2026-11-23T09:00:00.120Z",
        "extra": [1],
    }


# ---- mutated replies --------------------------------------------------------------------------

model_values = st.one_of(
    st.builds(
        ChannelAccount, id=short_text, name=st.none() | short_text, role=st.sampled_from([None, "user", RoleTypes.bot])
    ),
    st.builds(Mention, mentioned=st.builds(ChannelAccount, id=short_text), text=short_text, type=st.just("mention")),
    st.builds(Entity, type=short_text),
    st.builds(CardAction, type=st.sampled_from(list(ActionTypes)), title=short_text, value=json_values),
    st.builds(HeroCard, title=short_text, buttons=st.lists(st.builds(CardAction, title=short_text), max_size=2)),
    st.builds(Attachment, content_type=short_text, content=json_values),
    st.builds(ConversationAccount, id=short_text, is_group=st.booleans()),
    st.builds(TeamsChannelData, notification=st.builds(NotificationInfo, alert=st.booleans())),
)
python_scalars = st.one_of(
    json_scalars,
    st.datetimes(timezones=st.none() | st.sampled_from(ZONES)),
    st.dates(),
    st.timedeltas(),
    st.decimals(allow_nan=False),
    st.sampled_from(list(ActivityTypes) + list(InputHints) + list(RoleTypes) + list(TextFormatTypes)),
)
python_values = st.one_of(
    json_values,
    python_scalars,
    model_values,
    st.lists(st.none() | model_values | python_scalars, max_size=3),
    st.dictionaries(short_text, st.none() | model_values | python_scalars, max_size=3),
    st.dictionaries(st.integers(0, 3), json_scalars, max_size=2),
    st.tuples(short_text),
    st.just({"id": "29:x", "name": "dict in place of a model"}),
)


def models_in(node: Any) -> Iterator[Model]:
    """Every model reachable from `node` through attributes, lists and dicts."""
    if isinstance(node, Model):
        yield node
        node = vars(node)
    if isinstance(node, dict):
        for child in list(node.values()):
            yield from models_in(child)
    elif isinstance(node, list | tuple):
        for child in node:
            yield from models_in(child)


@st.composite
def mutated_replies(draw: st.DrawFn) -> Activity:
    reply = copy.deepcopy(draw(st.sampled_from(list(REPLIES.values()))))
    for _ in range(draw(st.integers(1, 4))):
        target = draw(st.sampled_from(list(models_in(reply))))
        attr = draw(st.sampled_from(sorted(type(target)._attribute_map)) | st.just("additional_properties"))
        if draw(st.integers(0, 9)) == 0:
            vars(target).pop(attr, None)
        else:
            setattr(target, attr, copy.deepcopy(draw(python_values)))
    return reply


@FUZZ
@given(mutated_replies())
def test_mutated_replies_are_written_as_msrest_writes_them(reply: Activity) -> None:
    check_outbound(reply)


@FUZZ
@given(mutated_payloads())
def test_read_then_written_as_msrest_does(payload: dict[str, Any]) -> None:
    activity, error = outcome(Activity().deserialize, payload)
    if error is None:
        check_outbound(activity)


def test_a_date_in_channel_data_is_left_to_msrest() -> None:
    reply = copy.deepcopy(REPLIES["text"])
    reply.channel_data = {"due": date(2026, 11, 23)}
    check_outbound(reply)


# ---- through the pooled Bot Connector client --------------------------------------------------


async def test_replies_reach_the_connector_as_msrest_wrote_them(connector: LocalConnector) -> None:
    _, reference = incoming_reference()
    reference.service_url = connector.url
    replies = [TurnContext.apply_conversation_reference(copy.deepcopy(r), reference) for r in REPLIES.values()]
    leaves_to_msrest = copy.deepcopy(replies[0])
    leaves_to_msrest.timestamp = datetime(2026, 11, 23, 9, 0)
    replies.append(leaves_to_msrest)
    expected = [json.loads(json.dumps(STOCK.body(copy.deepcopy(r), "Activity"))) for r in replies]
    pool = ConnectorPool()
    client = pool.client_for(connector.url, MicrosoftAppCredentials.empty())
    try:
        for reply in replies:
            await client.conversations.reply_to_activity(reply.conversation.id, reply.reply_to_id, reply)
        await client.conversations.send_to_conversation(replies[0].conversation.id, copy.deepcopy(replies[0]))
    finally:
        await pool.close()
    assert connector.activities() == [*expected, expected[0]]
    assert [r.reply_to for r in connector.received[:-1]] == [r.reply_to_id for r in replies]
