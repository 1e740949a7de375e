"""Catalog commands (being written)."""


def register_cli(app) -> None:
    pass
