"""Deployment tooling: the Teams app package builder and its checks (the templates live beside it)."""
