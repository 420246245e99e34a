"""One error tree per package, found by importing every module and reading every ``raise``.

``vault`` errors derive from ``OffboardError``, ``signing`` errors from ``SigningError`` and ``storage``
errors from ``StoreError`` (the two never import ``vault``; the domain wraps their errors where they
cross). The API maps every domain error class to a status; ``signing`` and ``storage`` raise nothing
but their own errors.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import pkgutil
import typing
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from api import errors as api_errors
from signing.errors import SigningError
from storage.base import StoreError
from vault import errors
from vault.errors import OffboardError

ROOT = Path(__file__).resolve().parents[2]
ROOTS: dict[str, type[Exception]] = {"vault": OffboardError, "signing": SigningError, "storage": StoreError}

#: Private control-flow exceptions: raised and caught inside their own module, never seen by a caller.
#: Deriving them from ``OffboardError`` would be wrong: a caller's ``except OffboardError`` could swallow them.
PRIVATE_CONTROL_FLOW = {
    "vault.handover.acknowledgments._LostClaim",
    "vault.canonical._NotPlain",
    "vault.ledger.sequencer._UnitFailed",
}

#: ``raise`` of a built-in exception in ``vault`` that marks a broken invariant (a bug), not a failure a
#: user can cause: (module, exception) with why it is allowed.
INVARIANTS = {
    ("vault.bundle.digests", "RuntimeError"): "every queued hashing job has run once the queues drained",
    ("vault.evidence.orphans", "AssertionError"): "age_text's loop always returns at its last unit",
    # Not a failure at all: the file-object protocol zipfile expects of a sink that cannot seek.
    ("vault.bundle.export", "OSError"): "_Sink.seek tells zipfile to stream",
}


def _modules(package: str) -> Iterator[ModuleType]:
    root = importlib.import_module(package)
    yield root
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        if info.name.startswith("vault.migrations"):
            continue  # alembic's env.py runs migrations when imported; migrations define no errors
        yield importlib.import_module(info.name)


def _exception_classes(package: str) -> list[type[BaseException]]:
    found = []
    for module in _modules(package):
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__ == module.__name__:
                found.append(value)
    return found


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


@pytest.mark.parametrize("package", sorted(ROOTS))
def test_every_exception_class_derives_from_its_package_root(package: str) -> None:
    classes = _exception_classes(package)
    assert classes, f"found no exception classes in {package}"
    private = {_qualname(c) for c in classes if c.__name__.startswith("_")}
    assert private <= PRIVATE_CONTROL_FLOW, f"new private exceptions need a review: {private - PRIVATE_CONTROL_FLOW}"
    strays = [_qualname(c) for c in classes if not c.__name__.startswith("_") and not issubclass(c, ROOTS[package])]
    assert strays == [], f"these do not derive from {ROOTS[package].__name__}: {strays}"


def test_every_domain_error_has_a_status_in_the_one_handler() -> None:
    mapped = [cls for cls, _, _ in api_errors.STATUS]
    unmapped = [
        _qualname(c)
        for c in _exception_classes("vault")
        if issubclass(c, OffboardError) and c is not OffboardError and not any(issubclass(c, m) for m in mapped)
    ]
    assert unmapped == []


def test_error_codes_are_unique_slugs() -> None:
    """The code is the problem ``type``: two classes sharing one would be one problem to a client."""
    classes = [c for c in _exception_classes("vault") if issubclass(c, OffboardError)]
    by_code: dict[str, list[str]] = {}
    for cls in classes:
        by_code.setdefault(cls.code, []).append(_qualname(cls))
    assert {code: names for code, names in by_code.items() if len(names) > 1} == {}
    assert all(code == code.lower() and " " not in code for code in by_code)


def test_integrity_mail_and_storage_are_three_separate_failures() -> None:
    assert api_errors.status_for(errors.IntegrityFailure("x")) == (500, "Stored records failed an integrity check")
    assert not issubclass(errors.MailError, errors.StorageError)
    assert not issubclass(errors.IntegrityFailure, (errors.NotFound, errors.VerificationFailed))
    assert api_errors.status_for(errors.MailError("x"))[0] == 503
    assert api_errors.status_for(errors.StorageError("x"))[0] == 503


def _raised_names(path: Path) -> Iterator[tuple[int, str, bool]]:
    """(line, name, called) of each ``raise NAME`` / ``raise NAME(...)``; bare re-raises are skipped."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if not isinstance(node, ast.Raise) or node.exc is None:
            continue
        target, called = (node.exc.func, True) if isinstance(node.exc, ast.Call) else (node.exc, False)
        if isinstance(target, ast.Name):
            yield node.lineno, target.id, called
        elif isinstance(target, ast.Attribute):
            yield node.lineno, target.attr, called


def _raises_root(module: ModuleType, name: str, called: bool, root: type[Exception]) -> bool:
    """Whether ``raise name`` in ``module`` raises a ``root``: a class, or a helper annotated to return one."""
    value = getattr(module, name, None)
    if inspect.isclass(value):
        return issubclass(value, root)
    if called and callable(value):  # a factory such as ``store_error(exc, ...)``
        returned = typing.get_type_hints(value).get("return")
        return inspect.isclass(returned) and issubclass(returned, root)
    return False


@pytest.mark.parametrize("package", ["signing", "storage"])
def test_leaf_packages_raise_only_their_own_errors(package: str) -> None:
    root = ROOTS[package]
    bad = []
    for path in sorted((ROOT / package).glob("*.py")):
        module = importlib.import_module(f"{package}.{path.stem}" if path.stem != "__init__" else package)
        for line, name, called in _raised_names(path):
            if not _raises_root(module, name, called, root) and not _local_reraise(path, line, name):
                bad.append(f"{path.relative_to(ROOT)}:{line}: raise {name}")
    assert bad == [], f"{package} may raise only {root.__name__} subclasses"


def _local_reraise(path: Path, line: int, name: str) -> bool:
    """``raise exc`` of a variable bound by ``except <root subclass> as exc`` in the same function."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler) and node.name == name:
            inner = [n.lineno for n in ast.walk(node) if isinstance(n, ast.Raise)]
            if line in inner:
                return True
    return False


def test_the_domain_raises_no_bare_builtin_errors() -> None:
    """Every failure leaving ``vault`` is an ``OffboardError``; the allowed built-ins mark bugs, not inputs."""
    builtin = {n for n, value in vars(builtins).items() if inspect.isclass(value) and issubclass(value, Exception)}
    found = set()
    for path in sorted((ROOT / "vault").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for _, name, _ in _raised_names(path):
            if name in builtin and name != "NotImplementedError":
                found.add((module, name))
    assert found == set(INVARIANTS), f"bare built-in raises in vault: {sorted(found - set(INVARIANTS))}"


def test_a_stored_key_that_is_no_key_is_an_integrity_failure() -> None:
    """Damage to Offboard's own key rows is not the caller's bad input, nor a bare signing error."""
    from vault.ledger.keyring import verifier_of
    from vault.models import SigningKey

    row = SigningKey(
        organization_id="o", name="offboard.test/log", key_id="0a0b0c0d", public_key=b"\x01" * 31, file_name="k.key"
    )
    with pytest.raises(errors.IntegrityFailure, match="stored signing key 0a0b0c0d is not a valid Ed25519"):
        verifier_of(row)
