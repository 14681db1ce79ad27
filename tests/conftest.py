"""Shared fixtures. Each part's fixtures live in their own module, imported here."""

from __future__ import annotations

from runner_fixtures import *  # noqa: F403
