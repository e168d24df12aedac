"""Imports run one way: core at the bottom, the domain apps in the middle, the edges on top,
and no circle between apps or between the modules of one package (pyproject.toml's
import-linter contracts; README, Architecture)."""

from copy import deepcopy

import pytest
from django.core.management import call_command

from podpiska.core.management.commands.layers import (
    app_arrows,
    build_graph,
    check_contracts,
    layers_of,
    read_options,
    upward,
)


@pytest.fixture(scope="module")
def options():
    return read_options()


@pytest.fixture(scope="module")
def built_graph():
    return build_graph()


@pytest.fixture
def graph(built_graph):
    return deepcopy(built_graph)


def kept(graph, options) -> dict[str, bool]:
    return {contract.name: check.kept for contract, check in check_contracts(graph, options)}


def test_the_code_keeps_every_contract(graph, options):
    results = kept(graph, options)
    assert len(results) == 2 and all(results.values()), results
    assert upward(app_arrows(graph), layers_of(options)) == []


def test_every_app_has_its_layer(options):
    # An app left out of the contract would be checked by nothing.
    apps = {app for layer in layers_of(options) for app in layer}
    assert {"core", "accounts", "audit", "catalog", "subscriptions", "billing", "notifications",
            "support", "web", "api", "staff", "demo", "jobs"} == apps


def test_a_domain_app_importing_the_web_layer_breaks_the_layers(graph, options):
    graph.add_import(
        importer="podpiska.billing.models", imported="podpiska.web.views",
        line_number=1, line_contents="from podpiska.web import views",
    )
    results = kept(graph, options)
    assert results["Apps import only the layers below them"] is False
    assert ("billing", "web") in upward(app_arrows(graph), layers_of(options))


def test_notifications_importing_billing_breaks_the_layers(graph, options):
    # Notifications are infrastructure: billing registers its letters, never the reverse.
    graph.add_import(
        importer="podpiska.notifications.email", imported="podpiska.billing.models",
        line_number=1, line_contents="from podpiska.billing.models import Invoice",
    )
    assert kept(graph, options)["Apps import only the layers below them"] is False


def test_a_cycle_between_two_apps_of_one_layer_is_caught(graph, options):
    # Subscriptions import the catalog; the catalog importing subscriptions closes a circle
    # that the layers alone allow (one layer), and the acyclic contract does not.
    graph.add_import(
        importer="podpiska.catalog.actions", imported="podpiska.subscriptions.timeline",
        line_number=1, line_contents="from podpiska.subscriptions import timeline",
    )
    results = kept(graph, options)
    assert results["Apps import only the layers below them"] is True
    assert results["No import cycle between apps, nor between the modules of one package"] is False


def test_a_cycle_between_modules_of_one_app_is_caught(graph, options):
    graph.add_import(
        importer="podpiska.notifications.models", imported="podpiska.notifications.email",
        line_number=1, line_contents="from podpiska.notifications import email",
    )
    assert kept(graph, options)[
        "No import cycle between apps, nor between the modules of one package"
    ] is False


def test_the_layers_command_prints_the_layers_and_no_upward_arrow(capsys):
    call_command("layers")
    out = capsys.readouterr().out
    assert "web · api · staff · demo · jobs" in out
    assert "  core\n" in out
    assert "Стрелок вверх: 0" in out
