"""The real content and editable copies of it, as the knowledge tests use them."""

from tests.knowledge.conftest import content_copy, edit, kb  # noqa: F401  (fixtures shared with tests/knowledge)
