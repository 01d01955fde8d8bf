"""The packaged declarations of every event type (:mod:`events.catalogue`).

Importing this package declares them all, in vocabulary order (the order of
DOMAIN.md's vocabulary, which the schemas and the samples follow). One module
per family of lifecycles, each with its ``DECLARATIONS``:

* :mod:`.commitments` — 信用承诺;
* :mod:`.findings` — 失信行为, 行政处罚, 整改, 约谈;
* :mod:`.sanctions` — 名单, 惩戒措施, 市场和行业禁入;
* :mod:`.remedies` — 异议, 信用修复, corrections and revocations;
* :mod:`.registers` — persons, 自愿注册, 综合评价, 双随机抽查, 行政许可, 守信激励.

To add a type: write its model (:mod:`events.models`), declare it in the
family's module, and register its decision in ``commands/`` (its authority
check, and its rules if it has any). Everything else follows.
"""

from events.catalogue import declare
from events.declarations import commitments, findings, registers, remedies, sanctions

__all__ = ["commitments", "findings", "registers", "remedies", "sanctions"]

declare(
    *commitments.DECLARATIONS,
    *findings.DECLARATIONS,
    *sanctions.DECLARATIONS,
    *remedies.DECLARATIONS,
    *registers.DECLARATIONS,
)
