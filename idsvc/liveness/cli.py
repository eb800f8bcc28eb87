"""CLI commands of idsvc.liveness (placeholder until the feature lands)."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Add this feature's commands to the idsvc group."""
