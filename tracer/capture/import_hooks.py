"""Run a function right after a module is first imported (a post-import hook).

``baton run`` equips a framework only when the program imports it: importing the Agents
SDK or LangChain in every Python process of a command, just in case, would cost each of
them a second or more. A finder first on ``sys.meta_path`` wraps the watched module's
loader so that the hook runs once the module has executed.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import logging
import sys
import threading
from collections.abc import Callable, Sequence
from types import ModuleType

logger = logging.getLogger("baton.run")

Hook = Callable[[ModuleType], None]


class _PostImportFinder(importlib.abc.MetaPathFinder):
    def __init__(self) -> None:
        self.hooks: dict[str, list[Hook]] = {}
        self._finding = threading.local()

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.hooks or getattr(self._finding, "active", False):
            return None
        self._finding.active = True
        try:  # the spec the rest of sys.meta_path would give
            spec = importlib.util.find_spec(fullname)
        finally:
            self._finding.active = False
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _HookedLoader(spec.loader, self.hooks.pop(fullname))
        return spec


class _HookedLoader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader, hooks: list[Hook]) -> None:
        self._loader = loader
        self._hooks = hooks

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        for hook in self._hooks:
            run_hook(hook, module)

    def __getattr__(self, name: str) -> object:  # resources, get_source, is_package...
        return getattr(self._loader, name)


_finder = _PostImportFinder()


def run_hook(hook: Hook, module: ModuleType) -> None:
    """A hook must never break the import it follows."""
    try:
        hook(module)
    except Exception:
        logger.exception("baton could not equip %s for recording", module.__name__)


def when_imported(name: str, hook: Hook) -> None:
    """Call ``hook(module)`` once module ``name`` is imported (now, if it already is)."""
    if name in sys.modules:
        run_hook(hook, sys.modules[name])
        return
    _finder.hooks.setdefault(name, []).append(hook)
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
