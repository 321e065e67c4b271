"""INSERT … ON CONFLICT DO UPDATE for both dialects we support."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite


def upsert(dialect: str, table: Table, values: Mapping[str, Any], keys: Iterable[str]) -> Any:
    """A statement that inserts `values`, or updates every non-key column on a key clash."""
    key_cols = list(keys)
    module = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(table).values(**values)
    updates = {name: stmt.excluded[name] for name in values if name not in key_cols}
    return stmt.on_conflict_do_update(index_elements=key_cols, set_=updates)
