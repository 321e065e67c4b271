"""Activity <-> JSON dict with msrest's results, without msrest's generic walk.

msrest reads an activity (`Activity().deserialize(payload)`) and writes one
(`Serializer.body(activity, "Activity")`) by interpreting each model's `_attribute_map` anew for
every value, and `body` even rebuilds the whole model before serialising it. That was about
0.2 ms of CPU per message each way. Here each model class gets a plan, built once from the same
`_attribute_map`: a decoder and an encoder per field, for the type strings msrest gives meaning to.

The plans only take the paths where msrest's outcome is plain: exact JSON types where msrest
expects them, timestamps in the usual ISO 8601 shapes, model instances in model-typed fields.
Anything else (another type, a value msrest would convert or reject, a model with validation
rules, flattened keys, polymorphism, XML, deep nesting, any error) makes the fast path give up,
and msrest handles the whole activity as before, with its own result or exception.

Intended differences, all invisible in the JSON and in `==`: `object`-typed values (channelData,
value, card content) are shared with the payload or activity instead of copied; unknown keys keep
the payload's order in `additional_properties` (msrest's follows a set); and writing no longer
replaces the activity's lists with new, equal lists.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from functools import lru_cache
from typing import Any

from botbuilder.schema import Activity
from botframework.connector import models as connector_models
from isodate.tzinfo import UTC as ISODATE_UTC
from isodate.tzinfo import FixedOffset
from msrest import Serializer
from msrest.serialization import Deserializer, Model

from bot.plain_json import SCALARS, is_plain_json

# What msrest resolves type names against: Activity().deserialize uses the classes of
# botbuilder.schema; the Bot Connector client serialises with botframework.connector.models.
INBOUND_DEPENDENCIES: dict[str, type] = Activity._infer_class_models()
OUTBOUND_DEPENDENCIES: dict[str, type] = {
    **INBOUND_DEPENDENCIES,
    **{k: v for k, v in connector_models.__dict__.items() if isinstance(v, type)},
}

# Deeper than this, msrest decides: its recursion (and its RecursionError) stays its own.
MAX_DEPTH = 48

_SCALARS = SCALARS
_MISSING = object()

Codec = Callable[[Any, int], Any]  # (value that is not None, depth) -> decoded or encoded value


class _Unsupported(Exception):
    """The fast path is not sure of msrest's result here; msrest handles the whole activity."""


def _unsupported(value: Any, depth: int) -> Any:
    raise _Unsupported


# ---- shared helpers ---------------------------------------------------------------------------


def _plain_json(value: Any, depth: int) -> bool:
    """True for plain JSON not too deep for msrest's own recursion to be the judge."""
    return is_plain_json(value, depth, max_depth=MAX_DEPTH)


def _model_class(type_name: str, dependencies: dict[str, type]) -> type[Model] | None:
    """The model class msrest would use for `type_name`, or None when it would not use one."""
    found = dependencies.get(type_name)
    if isinstance(found, type) and issubclass(found, Model):
        return found
    return None


def _class_is_plain(cls: type[Model]) -> bool:
    """No msrest feature this module does not mirror: validation, read-only or constant fields,
    polymorphism, XML, flattened or duplicate keys, non-string types."""
    if cls._validation or getattr(cls, "_subtype_map", None) or hasattr(cls, "_xml_map"):
        return False
    keys = []
    for attr, desc in cls._attribute_map.items():
        if set(desc) != {"key", "type"} or not isinstance(desc["type"], str) or not isinstance(desc["key"], str):
            return False
        key = desc["key"]
        if attr == "additional_properties" and key == "":
            continue
        if "." in key or key == "":
            return False
        keys.append(key)
    return len(keys) == len(set(keys))


# ---- ISO 8601 ---------------------------------------------------------------------------------

# The shapes the Bot Connector sends; any other string goes to msrest's own parser.
_ISO_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-](\d{2})(?::?(\d{2}))?)?",
    re.ASCII,
)


def parse_iso(text: str) -> datetime:
    """`Deserializer.deserialize_iso(text)`, without isodate's regex scan and Decimal arithmetic.

    Same value and same tzinfo classes as isodate (its UTC, or FixedOffset named after the
    offset as written); fractions beyond microseconds are cut, as msrest does.
    """
    match = _ISO_DATETIME.fullmatch(text)
    if match is None:
        return Deserializer.deserialize_iso(text)
    year, month, day, hour, minute, second, fraction, zone, zone_hours, zone_minutes = match.groups()
    if month == "00":  # isodate reads month 0 as January
        return Deserializer.deserialize_iso(text)
    tzinfo = None
    offset_minutes = 0
    if zone == "Z":
        tzinfo = ISODATE_UTC
    elif zone is not None:
        hours, minutes = int(zone_hours), int(zone_minutes or 0)
        offset_minutes = hours * 60 + minutes
        tzinfo = _fixed_offset(zone, hours, minutes)
    microsecond = int(fraction[:6].ljust(6, "0")) if fraction else 0
    number = int(year)
    try:
        value = datetime(number, int(month), int(day), int(hour), int(minute), int(second), microsecond, tzinfo)
        # Only a first or last year, or an offset of a day or more, can put the time in UTC out of range.
        if 1 < number < 9999 and offset_minutes < 24 * 60:
            return value
        year_in_utc = value.utctimetuple().tm_year
    except (ValueError, OverflowError):
        return Deserializer.deserialize_iso(text)  # raises msrest's DeserializationError
    if not 1 <= year_in_utc <= 9999:
        return Deserializer.deserialize_iso(text)
    return value


@lru_cache(maxsize=256)  # distinct offsets as written ("+01:00", "+0100", "+01"): a handful in practice
def _fixed_offset(zone: str, hours: int, minutes: int) -> FixedOffset:
    """isodate's tzinfo for an offset as written; immutable, so one is shared by every timestamp."""
    sign = -1 if zone[0] == "-" else 1
    return FixedOffset(sign * hours, sign * minutes, zone)


def format_iso(value: datetime) -> str:
    """`Serializer.serialize_iso(value)` for an aware datetime: UTC, milliseconds at least, 'Z'."""
    utc = value.utctimetuple()
    if not 1 <= utc.tm_year <= 9999:
        raise _Unsupported
    fraction = str(value.microsecond).rjust(6, "0").rstrip("0").ljust(3, "0")
    return (
        f"{utc.tm_year:04}-{utc.tm_mon:02}-{utc.tm_mday:02}"
        f"T{utc.tm_hour:02}:{utc.tm_min:02}:{utc.tm_sec:02}.{fraction}Z"
    )


# ---- reading: JSON -> models ------------------------------------------------------------------


def _decode_str(value: Any, depth: int) -> Any:
    kind = type(value)
    if kind is str:
        return value
    if kind is int or kind is float or kind is bool:
        return str(value)  # msrest's deserialize_unicode
    raise _Unsupported


def _decode_int(value: Any, depth: int) -> Any:
    if type(value) is int:
        return value
    raise _Unsupported


def _decode_bool(value: Any, depth: int) -> Any:
    if type(value) is bool:
        return value
    raise _Unsupported


def _decode_float(value: Any, depth: int) -> Any:
    kind = type(value)
    if kind is float:
        return value
    if kind is int:
        return float(value)
    raise _Unsupported


def _decode_iso(value: Any, depth: int) -> Any:
    if type(value) is str:
        return parse_iso(value)
    raise _Unsupported


def _decode_object(value: Any, depth: int) -> Any:
    """msrest copies plain JSON node by node into an equal tree; the tree itself is kept here."""
    if _plain_json(value, depth):
        return value
    raise _Unsupported


_SIMPLE_DECODERS: dict[str, Codec] = {
    "str": _decode_str,
    "int": _decode_int,
    "long": _decode_int,
    "bool": _decode_bool,
    "float": _decode_float,
    "iso-8601": _decode_iso,
    "object": _decode_object,
}


def _list_of(item: Codec) -> Codec:
    """`[Type]` both ways: msrest maps each item and keeps None as None."""

    def convert(value: Any, depth: int) -> Any:
        if type(value) is not list or depth > MAX_DEPTH:
            raise _Unsupported
        return [None if v is None else item(v, depth + 1) for v in value]

    return convert


def _container(type_name: str, compile_item: Callable[[str], Codec], dict_of: Callable[[Codec], Codec]) -> Codec | None:
    """The codec for `[Type]` or `{Type}`, or None when `type_name` is neither."""
    if len(type_name) > 2 and type_name[0] + type_name[-1] == "[]":
        return _list_of(compile_item(type_name[1:-1]))
    if len(type_name) > 2 and type_name[0] + type_name[-1] == "{}":
        return dict_of(compile_item(type_name[1:-1]))
    return None


def _dict_decoder(item: Codec) -> Codec:
    def decode(value: Any, depth: int) -> Any:
        if type(value) is not dict or depth > MAX_DEPTH:
            raise _Unsupported
        return {k: None if v is None else item(v, depth + 1) for k, v in value.items()}

    return decode


def _model_decoder(cls: type[Model]) -> Codec:
    def decode(value: Any, depth: int) -> Any:
        return _decoder_for(cls).decode(value, depth + 1)

    return decode


def _compile_decoder(type_name: str) -> Codec:
    """What msrest's deserialize_data does for `type_name`, for the cases mirrored here."""
    simple = _SIMPLE_DECODERS.get(type_name)
    if simple is not None:
        return simple
    container = _container(type_name, _compile_decoder, _dict_decoder)
    if container is not None:
        return container
    cls = _model_class(type_name, INBOUND_DEPENDENCIES)
    return _unsupported if cls is None else _model_decoder(cls)


def _plain_init_template(cls: type[Model], attrs: list[str]) -> dict[str, Any] | None:
    """The instance `__dict__` of `cls(**{attr: None})` when `__init__` only stores its arguments.

    Then an instance can be made by setting its `__dict__`, equal to what `cls(**kwargs)` makes.
    Checked with distinct markers and with None, so `x or default` style defaults are noticed.
    """
    if cls.__new__ is not object.__new__:
        return None
    markers = {attr: object() for attr in attrs}
    try:
        marked = cls(**markers)
        empty = cls(**dict.fromkeys(attrs))
    except Exception:  # noqa: BLE001 - an __init__ that refuses these arguments is simply not plain
        return None
    if type(marked) is not cls or type(empty) is not cls:
        return None
    base: dict[str, Any] = {"additional_properties": {}}
    if marked.__dict__ != {**base, **markers} or empty.__dict__ != {**base, **dict.fromkeys(attrs)}:
        return None
    return dict(empty.__dict__)  # __init__'s own order of attributes


@dataclass(slots=True, eq=False)
class _ModelDecoder:
    """How msrest's Deserializer builds one model class from a JSON object."""

    cls: type[Model]
    attribute_map: dict[str, Any]
    size: int
    fields: dict[str, tuple[str, Codec]] | None  # JSON key -> (attribute, decoder); None: unsupported
    template: dict[str, Any] | None  # plain __init__: the instance __dict__ with every field None
    attrs: tuple[str, ...]

    @classmethod
    def build(cls, model: type[Model]) -> _ModelDecoder:
        attribute_map = model._attribute_map
        declared = attribute_map.get("additional_properties")
        plain = _class_is_plain(model) and (declared is None or declared["key"] == "")
        fields = {}
        if plain:
            for attr, desc in attribute_map.items():
                if attr != "additional_properties":
                    fields[desc["key"]] = (attr, _compile_decoder(desc["type"]))
        attrs = tuple(attr for attr, _ in fields.values())
        return cls(
            cls=model,
            attribute_map=attribute_map,
            size=len(attribute_map),
            fields=fields if plain else None,
            template=_plain_init_template(model, list(attrs)) if plain else None,
            attrs=attrs,
        )

    def stale(self) -> bool:
        return self.cls._attribute_map is not self.attribute_map or len(self.attribute_map) != self.size

    def decode(self, data: Any, depth: int) -> Model:
        """msrest's _deserialize for a JSON object: every field, None when absent or null.

        Keys the map does not know go to `additional_properties`, on every model whether or not
        it declares them (msrest's _build_additional_properties): a mention's `mentioned` and
        `text` live there on the Entity.
        """
        fields = self.fields
        if fields is None or type(data) is not dict or depth > MAX_DEPTH:
            raise _Unsupported
        values = dict.fromkeys(self.attrs) if self.template is None else self.template.copy()
        extras = {}
        for key, value in data.items():
            field = fields.get(key)
            if field is None:
                extras[key] = value
            elif value is not None:
                values[field[0]] = field[1](value, depth)
        return self._instantiate(values, extras)

    def _instantiate(self, values: dict[str, Any], extras: dict[Any, Any]) -> Model:
        """msrest's _instantiate_model: `cls(**fields)`, then unknown keys if there were any."""
        if self.template is not None:
            values["additional_properties"] = extras  # a fresh dict, {} as Model.__init__ sets it
            instance = object.__new__(self.cls)
            instance.__dict__ = values
            return instance
        instance = self.cls(**values)
        if extras:
            instance.additional_properties = extras
        return instance


_DECODERS: dict[type, _ModelDecoder] = {}


def _decoder_for(cls: type[Model]) -> _ModelDecoder:
    plan = _DECODERS.get(cls)
    if plan is None or plan.stale():
        plan = _DECODERS[cls] = _ModelDecoder.build(cls)
    return plan


def activity_from_dict(payload: dict[str, Any]) -> Activity:
    """`Activity().deserialize(payload)`: the same activity, or msrest's own exception."""
    if type(payload) is dict:
        try:
            return _decoder_for(Activity).decode(payload, 0)  # type: ignore[return-value]
        except Exception:  # noqa: BLE001 - not sure of msrest's answer: msrest gives it below
            pass
    return Activity.deserialize(payload)


# ---- writing: models -> JSON ------------------------------------------------------------------


def _encode_str(value: Any, depth: int) -> Any:
    if type(value) is str:
        return value
    if isinstance(value, Enum):
        return value.value  # msrest's serialize_unicode: an enum's value, as it is
    raise _Unsupported


def _encode_int(value: Any, depth: int) -> Any:
    if type(value) is int:
        return value
    raise _Unsupported


def _encode_bool(value: Any, depth: int) -> Any:
    if type(value) is bool:
        return value
    raise _Unsupported


def _encode_float(value: Any, depth: int) -> Any:
    kind = type(value)
    if kind is float:
        return value
    if kind is int:
        return float(value)
    raise _Unsupported


def _encode_iso(value: Any, depth: int) -> Any:
    # A naive datetime makes msrest log a warning: left to msrest, so it is logged once.
    if type(value) is datetime and value.tzinfo:
        return format_iso(value)
    raise _Unsupported


def _encode_model(value: Any, depth: int) -> Any:
    """A model is written by its own class's map, whatever type the field declares (as msrest)."""
    if isinstance(value, Model):
        return _encoder_for(type(value)).encode(value, depth + 1)
    raise _Unsupported


def _rebuild_object(value: Any, depth: int) -> Any:
    """msrest's serialize_object for a tree of plain JSON and models."""
    if depth > MAX_DEPTH:
        raise _Unsupported
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict:
        rebuilt = {}
        for key, child in value.items():
            if type(key) is not str:
                raise _Unsupported
            rebuilt[key] = _rebuild_object(child, depth + 1)
        return rebuilt
    if kind is list:
        return [_rebuild_object(child, depth + 1) for child in value]
    return _encode_model(value, depth)


def _encode_object(value: Any, depth: int) -> Any:
    """Plain JSON as it is (msrest would return an equal copy); models inside written as models."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if (kind is dict or kind is list) and _plain_json(value, depth):
        return value
    return _rebuild_object(value, depth)


_SIMPLE_ENCODERS: dict[str, Codec] = {
    "str": _encode_str,
    "int": _encode_int,
    "long": _encode_int,
    "bool": _encode_bool,
    "float": _encode_float,
    "iso-8601": _encode_iso,
    "object": _encode_object,
}


def _dict_encoder(item: Codec) -> Codec:
    def encode(value: Any, depth: int) -> Any:
        if type(value) is not dict or depth > MAX_DEPTH:
            raise _Unsupported
        encoded = {}
        for key, child in value.items():
            if type(key) is not str:
                raise _Unsupported
            encoded[key] = None if child is None else item(child, depth + 1)
        return encoded

    return encode


def _compile_encoder(type_name: str) -> Codec:
    """What msrest's serialize_data does for `type_name`, for the cases mirrored here."""
    simple = _SIMPLE_ENCODERS.get(type_name)
    if simple is not None:
        return simple
    container = _container(type_name, _compile_encoder, _dict_encoder)
    if container is not None:
        return container
    found = OUTBOUND_DEPENDENCIES.get(type_name)
    if isinstance(found, type) and issubclass(found, Enum):
        return _unsupported  # msrest would write the value as that enum
    return _encode_model


@dataclass(slots=True, eq=False)
class _ModelEncoder:
    """How msrest's Serializer writes one model class (key transformer: the REST key)."""

    cls: type[Model]
    attribute_map: dict[str, Any]
    size: int
    fields: tuple[tuple[str, str, Codec | None], ...] | None  # None: unsupported
    # A field's codec is None for a declared `additional_properties` (key ""): merged as they are.

    @classmethod
    def build(cls, model: type[Model]) -> _ModelEncoder:
        attribute_map = model._attribute_map
        fields: tuple[tuple[str, str, Codec | None], ...] | None = None
        if _class_is_plain(model):
            fields = tuple(
                (attr, desc["key"], None if desc["key"] == "" else _compile_encoder(desc["type"]))
                for attr, desc in attribute_map.items()
            )
        return cls(cls=model, attribute_map=attribute_map, size=len(attribute_map), fields=fields)

    def stale(self) -> bool:
        return self.cls._attribute_map is not self.attribute_map or len(self.attribute_map) != self.size

    def encode(self, instance: Model, depth: int) -> dict[str, Any]:
        """msrest's _serialize: fields in map order, None left out, the first value of a key kept."""
        fields = self.fields
        if fields is None or depth > MAX_DEPTH:
            raise _Unsupported
        encoded: dict[str, Any] = {}
        for attr, key, codec in fields:
            value = getattr(instance, attr, _MISSING)
            if value is None:
                continue
            if value is _MISSING:
                raise _Unsupported
            if codec is None:
                if type(value) is not dict:
                    raise _Unsupported
                encoded.update(value)
                continue
            result = codec(value, depth)
            if key not in encoded:
                encoded[key] = result
        return encoded


_ENCODERS: dict[type, _ModelEncoder] = {}


def _encoder_for(cls: type[Model]) -> _ModelEncoder:
    plan = _ENCODERS.get(cls)
    if plan is None or plan.stale():
        plan = _ENCODERS[cls] = _ModelEncoder.build(cls)
    return plan


_STOCK_SERIALIZER = Serializer(OUTBOUND_DEPENDENCIES)


def _stock_body(activity: Activity) -> Any:
    return _STOCK_SERIALIZER.body(activity, "Activity")


def activity_to_dict(activity: Activity, fallback: Callable[[Activity], Any] | None = None) -> dict[str, Any]:
    """The request body `Serializer.body(activity, "Activity")` makes for the Bot Connector.

    `fallback` is the msrest path used when the fast path is not sure (default: a stock msrest
    Serializer over the Bot Connector's models); its result or exception is returned as is.
    """
    try:
        return _encode_model(activity, -1)  # type: ignore[no-any-return]
    except Exception:  # noqa: BLE001 - not sure of msrest's answer: msrest gives it below
        pass
    return (fallback or _stock_body)(activity)  # type: ignore[no-any-return]


def serializes_like(dependencies: dict[str, type]) -> bool:
    """True when a Serializer over `dependencies` writes activities as activity_to_dict does.

    Its classes must be ours under the same names: the class a type name stands for only
    matters when it is an enum, and every enum of those names makes the fast path step aside.
    """
    return all(OUTBOUND_DEPENDENCIES.get(name) is cls for name, cls in dependencies.items())
