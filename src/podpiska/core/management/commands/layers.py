"""`podpiska layers`: the apps by layer, the arrows between them, and any that runs up.

The layers are the import-linter contracts of pyproject.toml, the same ones that
`lint-imports` and tests/test_layers.py check; this prints them as a report a person
can read. A development tool: it needs the dev dependencies (import-linter, grimp).
"""

import re
from copy import deepcopy
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

PYPROJECT = Path(__file__).resolve().parents[5] / "pyproject.toml"


def read_options(pyproject: Path = PYPROJECT):
    from importlinter.application.use_cases import read_user_options
    from importlinter.configuration import configure

    configure()  # what its own command line sets up first
    return read_user_options(config_filename=str(pyproject))


def build_graph():
    import grimp

    return grimp.build_graph("podpiska", cache_dir=None)


def layer_contract(options) -> dict:
    return next(c for c in options.contracts_options if c["type"] == "layers")


def layers_of(options) -> list[list[str]]:
    """The apps of each layer, top first ("web : api" and "web | api" alike)."""
    return [
        [name.strip() for name in re.split(r"[:|]", layer) if name.strip()]
        for layer in layer_contract(options)["layers"]
    ]


def app_arrows(graph) -> dict[tuple[str, str], list[str]]:
    """(importer app, imported app) -> where, as "module:line"; apps are podpiska.<app>."""
    arrows: dict[tuple[str, str], list[str]] = {}
    for module in sorted(graph.modules):
        importer_app = module.split(".")[1] if module.count(".") else None
        for imported in graph.find_modules_directly_imported_by(module):
            imported_app = imported.split(".")[1] if imported.count(".") else None
            if not importer_app or not imported_app or importer_app == imported_app:
                continue
            lines = graph.get_import_details(importer=module, imported=imported)
            where = [f"{module}:{line['line_number']}" for line in lines] or [module]
            arrows.setdefault((importer_app, imported_app), []).extend(where)
    return arrows


def upward(arrows, layers: list[list[str]]) -> list[tuple[str, str]]:
    """The arrows from an app to one of a higher layer (or to an independent sibling)."""
    index = {app: i for i, apps in enumerate(layers) for app in apps}
    return sorted(
        (a, b)
        for a, b in arrows
        if a in index and b in index and index[b] < index[a]
    )


def check_contracts(graph, options) -> list[tuple[object, object]]:
    """Each contract of pyproject.toml checked against `graph`: (contract, its check)."""
    from importlinter.contracts.acyclic_siblings import AcyclicSiblingsContract
    from importlinter.contracts.layers import LayersContract

    types = {"layers": LayersContract, "acyclic_siblings": AcyclicSiblingsContract}
    results = []
    for contract_options in options.contracts_options:
        contract = types[contract_options["type"]](
            name=contract_options["name"],
            session_options=options.session_options,
            contract_options=contract_options,
        )
        results.append((contract, contract.check(deepcopy(graph), verbose=False)))
    return results


class Command(BaseCommand):
    help = "Печатает слои приложений, стрелки импорта между ними и стрелки, идущие вверх."

    def handle(self, *args, **options):
        try:
            settings = read_options()
            graph = build_graph()
        except ImportError as error:
            raise CommandError(f"нужны зависимости разработки (uv sync): {error}") from None
        layers = layers_of(settings)
        arrows = app_arrows(graph)
        self.stdout.write("Слои (сверху вниз; стрелка — «импортирует»):")
        for apps in layers:
            self.stdout.write("  " + " · ".join(apps))
            for app in apps:
                targets = sorted(b for a, b in arrows if a == app)
                self.stdout.write(f"      {app} → {', '.join(targets) or '—'}")
        up = upward(arrows, layers)
        self.stdout.write(f"Стрелок вверх: {len(up)}")
        for a, b in up:
            self.stdout.write(f"  {a} → {b}: {arrows[(a, b)][0]}")
        broken = []
        for contract, check in check_contracts(graph, settings):
            self.stdout.write(f"{contract.name}: {'соблюдено' if check.kept else 'НАРУШЕНО'}")
            if not check.kept:
                broken.append(contract)
                contract.render_broken_contract(check)
        if up or broken:
            raise CommandError("импорты идут не в одну сторону (подробности выше)")
