"""The package covers the C ABI and grows with it: the operation under every exported
function is called by the extension's source, and every status has its exception class."""

from __future__ import annotations

import re

import berth
import berth._native
from berth._errors import _BY_STATUS
from conftest import REPO

# Functions Python has no use for: the C ABI's own conventions for errors (the last
# status and message; the safe layer returns them as a Result) and for memory (the safe
# layer returns Rust values that own theirs).
NOT_CALLED = {
    "berth_last_error_status",
    "berth_last_error_message",
    "berth_string_free",
    "berth_bytes_free",
    "berth_exec_output_free",
}


def test_every_exported_function_is_called_by_the_package() -> None:
    symbols = (REPO / "ffi" / "symbols.txt").read_text().split()
    assert len(symbols) > 90
    # Every berth_* name in the code, comments left out (some are passed as values).
    code = [
        line
        for p in (REPO / "bindings" / "python" / "src").glob("*.rs")
        for line in p.read_text().splitlines()
        if not line.lstrip().startswith("//")
    ]
    # The package calls libberth's safe layer, whose operation `api::x::y` is what the C
    # function `berth_x_y` stands on (`api::y`: `berth_y`).
    operations = re.findall(r"\bapi::((?:[a-z_]+::)?[a-z_]+)\b", "\n".join(code))
    called = {"berth_" + op.replace("::", "_") for op in operations}
    missing = sorted(set(symbols) - called - NOT_CALLED)
    assert missing == [], f"C functions the Python package does not call: {missing}"


def test_every_error_status_has_its_class_named_as_the_library_names_it() -> None:
    header = (REPO / "include" / "berth.h").read_text()
    statuses = {int(v) for v in re.findall(r"BERTH_ERR_[A-Z_]+ = (-\d+)", header)}
    assert statuses == set(_BY_STATUS)
    for status, cls in _BY_STATUS.items():
        assert issubclass(cls, berth.Error)
        assert cls.status == status
        assert cls.kind == berth._native.status_string(status)


def test_the_exception_classes_are_the_librarys_list_of_statuses() -> None:
    """_errors.py writes the classes out (for mypy and readers); the library's list of
    kinds decides their names, statuses and kinds."""
    table = berth._native.status_table()
    assert len(table) >= 16
    assert {status for status, _, _ in table} == set(_BY_STATUS)
    for status, kind, name in table:
        cls = _BY_STATUS[status]
        assert (cls.__name__, cls.status, cls.kind) == (name, status, kind)
        assert getattr(berth, name) is cls and name in berth.__all__
    # No class beside the list's.
    assert set(berth.Error.__subclasses__()) == set(_BY_STATUS.values())
