"""The audit format is declared once (``ledger.audit.format``): the ledger's writers and the
API's models use it, and the standalone verifiers — which keep their own code so an auditor
can read them alone — check exactly the same key sets."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from pydantic import BaseModel

from api import models
from ledger.audit import format as fmt
from ledger.audit.checkpoints import Checkpoint
from ledger.audit.proofs import HeadLeafProof, HeadProof

TOOLS = Path(__file__).resolve().parents[3] / "tools"


def _tool(name: str) -> ModuleType:
    sys.path.insert(0, str(TOOLS))  # verify_report imports verify_bundle by name
    try:
        spec = importlib.util.spec_from_file_location(f"{name}_format_check", TOOLS / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(TOOLS))


def _fields(model: type[BaseModel]) -> set[str]:
    return {f.alias or name for name, f in model.model_fields.items()}


def test_the_bundle_verifier_checks_the_format_keys() -> None:
    vb = _tool("verify_bundle")
    assert vb.BUNDLE_FORMAT == fmt.BUNDLE_FORMAT
    assert tuple(vb.BUNDLE_KEYS) == fmt.BUNDLE_KEYS
    assert tuple(vb.BUNDLE_OPTIONAL) == fmt.BUNDLE_OPTIONAL_KEYS
    assert frozenset(fmt.RECORD_KEYS) == vb.RECORD_KEYS
    assert vb.ENTRY_KEYS == fmt.ENTRY_KEYS
    assert vb.HEAD_KEYS == fmt.HEAD_KEYS
    assert vb.NEIGHBOUR_KEYS == fmt.NEIGHBOUR_KEYS
    assert vb.LEAF_KEYS == fmt.HEAD_LEAF_KEYS
    assert frozenset(fmt.CHECKPOINT_KEYS) == vb.CHECKPOINT_REQUIRED | vb.CHECKPOINT_OPTIONAL
    assert vb.CHECKPOINT_OPTIONAL == fmt.CHECKPOINT_OPTIONAL_KEYS
    assert vb.ZERO_HASH == fmt.GENESIS


def test_the_report_verifier_checks_the_format_keys() -> None:
    vr = _tool("verify_report")
    assert vr.REPORT_FORMAT == fmt.REPORT_FORMAT
    assert vr.REPORT_KEYS == fmt.REPORT_KEYS
    assert vr.REPORT_OPTIONAL == fmt.REPORT_OPTIONAL_KEYS
    assert vr.REDACTED_KEYS == fmt.REDACTED_KEYS


def test_the_api_models_publish_the_format_keys() -> None:
    assert _fields(models.Checkpoint) == set(fmt.CHECKPOINT_KEYS)
    assert _fields(models.AuditBundle) == {*fmt.BUNDLE_KEYS, *fmt.BUNDLE_OPTIONAL_KEYS}


def test_the_ledger_writes_the_format_keys() -> None:
    cp = Checkpoint("credit-ledger", 3, "a" * 64, 1, "b" * 64, "c2ln")
    assert tuple(cp.body()) == fmt.CHECKPOINT_SIGNED_KEYS
    assert tuple(cp.to_json()) == fmt.CHECKPOINT_KEYS
    assert cp.signed_bytes() == fmt.signed_bytes(cp.body())
    leaf = HeadLeafProof("91440300MA5ABCDE1X", 2, bytes(32), 0, [])
    assert set(leaf.leaf_json()) == fmt.HEAD_LEAF_KEYS
    assert set(leaf.to_json()) == fmt.NEIGHBOUR_KEYS
    head = HeadProof("91440300MA5ABCDE1X", 3, 1, 0, leaf, None, None)
    assert set(head.to_json()) == fmt.HEAD_KEYS
