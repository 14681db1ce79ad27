"""The generic transfer rule: which tool calls are transfers, and to whom."""

from __future__ import annotations

import pytest

from tracer.capture.dialects.transfers import TRANSFER_TOOLS_ENV, transfer_target


@pytest.mark.parametrize(
    ("name", "arguments", "target"),
    [
        ("transfer_to_billing", "{}", "billing"),
        ("handoff_to_Refunds", None, "Refunds"),
        ("handoff", '{"to": "billing"}', "billing"),
        ("handoff", {"agent": "billing"}, "billing"),
        ("transfer_to_agent", '{"agent_name": "billing"}', "billing"),
        # ADK without content capture: a transfer whose target was not recorded, not one
        # to an agent called "agent" by the looser rule.
        ("transfer_to_agent", None, None),
        ("handoff", "not json", None),
        ("lookup", '{"to": "billing"}', None),
        (None, None, None),
    ],
)
def test_default_rules(name: str | None, arguments: object, target: str | None) -> None:
    assert transfer_target(name, arguments) == target


def test_the_rules_are_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TRANSFER_TOOLS_ENV, "route(dest), goto_*")
    assert transfer_target("route", '{"dest": "billing"}') == "billing"
    assert transfer_target("goto_sales", None) == "sales"
    assert transfer_target("transfer_to_billing", None) is None
