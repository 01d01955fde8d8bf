"""Credit commitments (信用承诺) and how they end."""

from events.catalogue import Declaration, Label, Relation, one
from events.models import (
    CommitmentBreached,
    CommitmentFulfilled,
    CommitmentMade,
    CommitmentWithdrawn,
)

MADE = "credit.commitment.made"

DECLARATIONS = (
    Declaration(
        name=MADE,
        model=CommitmentMade,
        label=Label("信用承诺", "commitment made"),
        sample={"commitment_type": "voluntary", "matter": "依法诚信经营", "due": None},
    ),
    Declaration(
        name="credit.commitment.fulfilled",
        model=CommitmentFulfilled,
        label=Label("承诺履行", "commitment fulfilled"),
        sample={"commitment": "commitment-1"},
        references={"commitment": one(MADE)},
        relation=Relation(Label("履行", "fulfils"), Label("已履行", "fulfilled by")),
    ),
    Declaration(
        name="credit.commitment.breached",
        model=CommitmentBreached,
        label=Label("承诺失信", "commitment breached"),
        sample={"commitment": "commitment-1", "kind": "unfulfilled"},
        references={"commitment": one(MADE)},
        relation=Relation(Label("违背", "breaches"), Label("被违背", "breached by")),
        finding=True,
    ),
    Declaration(
        name="credit.commitment.withdrawn",
        model=CommitmentWithdrawn,
        label=Label("承诺撤回", "commitment withdrawn"),
        sample={"commitment": "commitment-1"},
        references={"commitment": one(MADE)},
        relation=Relation(Label("撤回", "withdraws"), Label("被撤回", "withdrawn by")),
    ),
)
