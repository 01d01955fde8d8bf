"""One pydantic model per event type: the `data` an agency must send.

The models state the minimum (DOMAIN.md, "data fields"); extra fields are
allowed and kept. Validation is strict: no coercion (an int is not a string,
"3000" is not a list). Every string field must be non-blank. `basis` (the legal
provision) and `document` (the decision's document number, 文书号) are required
on the types that establish a finding or a sanction and optional, but typed,
everywhere else. The class docstrings become the JSON Schema descriptions.

The models are only validators: the ledger stores `data` exactly as submitted.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from events.fields import (
    Changes,
    CommitmentType,
    Date,
    ListName,
    Money,
    NonBlank,
    PenaltyKinds,
    Procedure,
    Ratio,
    Ref,
    RepairMethods,
    Severity,
)

_BASIS = "The legal provision the act rests on."
_DOCUMENT = "The number of the decision's document (文书号)."
_REASONS = "The reasons, in words."


class EventData(BaseModel):
    """Common base: strict, extra fields allowed, optional basis and document."""

    model_config = ConfigDict(strict=True, extra="allow")

    # Optional but never null: when present they must be non-blank strings. The
    # default (None, not validated) only fills the throwaway model instance.
    basis: NonBlank = Field(default=None, description=_BASIS)  # type: ignore[assignment]
    document: NonBlank = Field(default=None, description=_DOCUMENT)  # type: ignore[assignment]


class DocumentedData(EventData):
    """Base of the types that must name their legal basis and document number."""

    basis: NonBlank = Field(description=_BASIS)
    document: NonBlank = Field(description=_DOCUMENT)


# -- commitment (信用承诺) ---------------------------------------------------------


class CommitmentMade(EventData):
    """A credit commitment (信用承诺) made by the subject."""

    commitment_type: CommitmentType = Field(
        description="approval-substitute 审批替代型, voluntary 自主自愿型, "
        "industry 行业自律型, repair 信用修复型."
    )
    matter: NonBlank = Field(description="The matter the commitment concerns.")
    due: Date | None = Field(
        description="Conditional acceptance (容缺受理): the date the missing materials "
        "are due (missing it is a breach); null when the acceptance is not conditional."
    )


class CommitmentFulfilled(EventData):
    """The commitment was fulfilled."""

    commitment: Ref


class CommitmentBreached(EventData):
    """The commitment was breached: a finding of dishonest conduct."""

    commitment: Ref
    kind: Literal["false", "unfulfilled"] = Field(
        description="false: the commitment was untrue; unfulfilled: it was not kept."
    )


class CommitmentWithdrawn(EventData):
    """The commitment was withdrawn."""

    commitment: Ref


# -- violation, penalty (失信行为, 行政处罚) ---------------------------------------------


class ViolationRecorded(DocumentedData):
    """A dishonest-conduct record (失信行为)."""

    behaviour: NonBlank = Field(description="The behaviour code.")
    severity: Severity
    sector: NonBlank = Field(description="The regulated sector.")


class PenaltyDecided(DocumentedData):
    """An administrative penalty decision (行政处罚决定)."""

    kinds: PenaltyKinds = Field(description="The kinds of penalty imposed (at least one).")
    amount: Money | None = Field(description="The fine or confiscation in yuan, or null.")
    procedure: Procedure = Field(description="simplified 简易程序 or ordinary 普通程序.")
    severity: Severity
    sector: NonBlank = Field(description="The regulated sector.")


class PenaltyWithdrawn(EventData):
    """The penalty decision was changed or revoked."""

    penalty: Ref
    reason: NonBlank = Field(description="Why the decision was withdrawn.")


# -- rectification, interview (整改, 约谈) -------------------------------------------


class RectificationOrdered(EventData):
    """Rectification (整改) ordered for a finding."""

    finding: Ref
    deadline: Date = Field(description="The date by which the rectification is due.")


class RectificationCompleted(EventData):
    """The ordered rectification was completed."""

    rectification: Ref


class InterviewHeld(EventData):
    """A credit interview (约谈) about a finding, held by the agency that made it."""

    finding: Ref
    kind: Literal["reminder", "warning"] = Field(
        description="reminder 提示约谈 or warning 警示约谈."
    )


# -- lists (名单) --------------------------------------------------------------------


class ListProposed(DocumentedData):
    """A proposal to put the subject on a list (notice served, objection window open)."""

    list: ListName = Field(description="serious-dishonesty 严重失信主体名单 or focus 重点关注名单.")
    finding: Ref
    planned_end: Date | None = Field(description="The planned end of the listing, or null.")


class ListDesignated(DocumentedData):
    """The proposed listing was decided."""

    proposal: Ref


class ListRemoved(EventData):
    """The subject was removed from the list."""

    designation: Ref
    reason: Literal["expired", "repaired", "revoked"]


# -- measures, bans (惩戒措施, 市场和行业禁入) ---------------------------------------------


class MeasureApplied(DocumentedData):
    """A disciplinary measure (惩戒措施) from the published measures list was applied."""

    measure: NonBlank = Field(description="The measure's code in the measures list.")
    finding: Ref
    until: Date | None = Field(description="The last day of the measure, or null.")


class MeasureLifted(EventData):
    """The measure was lifted."""

    application: Ref


class BanImposed(DocumentedData):
    """A market or industry ban (市场和行业禁入)."""

    sector: NonBlank = Field(description="The market or industry the subject is banned from.")
    finding: Ref
    until: Date | None = Field(description="The last day of the ban, or null for permanent.")


class BanLifted(EventData):
    """The ban was lifted."""

    ban: Ref


# -- objection (异议) ----------------------------------------------------------------


class ObjectionFiled(EventData):
    """An objection (异议) to a record."""

    target: Ref
    grounds: NonBlank = Field(description="The grounds of the objection.")


class ObjectionResolved(EventData):
    """The objection was decided."""

    objection: Ref
    outcome: Literal["upheld", "rejected"] = Field(
        description="upheld: the record is corrected or revoked; rejected: it stands."
    )
    reasons: NonBlank = Field(description=_REASONS)
    changes: Changes | None = Field(
        default=None,
        description="Upheld only, optional: the corrected `data` fields of the target; the "
        "ledger records the credit.record.corrected with the resolution.",
    )
    revoke: bool | None = Field(
        default=None,
        description="Upheld only, optional: true to revoke the target; the ledger records "
        "the credit.record.revoked with the resolution.",
    )


# -- repair (信用修复) ---------------------------------------------------------------


class RepairRequested(EventData):
    """A request for credit repair (信用修复) of a record."""

    target: Ref
    methods: RepairMethods = Field(description="How the subject repairs its credit.")


class RepairApproved(EventData):
    """The repair was approved: disclosure stops, measures are lifted."""

    request: Ref
    reasons: NonBlank = Field(description=_REASONS)


class RepairRejected(EventData):
    """The repair was refused."""

    request: Ref
    reasons: NonBlank = Field(description=_REASONS)


class RepairRevoked(EventData):
    """An approved repair was revoked (e.g. its commitment was later breached)."""

    approval: Ref
    reason: NonBlank = Field(description="Why the repair was revoked.")


# -- record (compensating events) ----------------------------------------------------


class RecordCorrected(EventData):
    """A correction of an earlier record; applies from that record's own valid time."""

    target: Ref
    changes: Changes


class RecordRevoked(EventData):
    """A revocation of an earlier record; it was wrong from the start."""

    target: Ref
    reason: NonBlank = Field(description="Why the record is revoked.")


# -- person, registration, evaluation ------------------------------------------------


class PersonLinked(EventData):
    """A responsible natural person linked to the subject (personal data)."""

    role: Literal["legal-representative", "principal", "actual-controller"] = Field(
        description="法定代表人, 主要负责人 or 实际控制人."
    )
    name: NonBlank = Field(description="The person's name (personal data).")
    id_number: NonBlank = Field(description="The identity number (personal data).")


class RegistrationSubmitted(EventData):
    """Voluntarily registered positive information (自愿注册)."""

    category: NonBlank = Field(
        description="What is registered: certificate, contract performance, charity …"
    )
    description: NonBlank = Field(description="The information, in words.")


class EvaluationPublished(EventData):
    """A public credit comprehensive evaluation (公共信用综合评价) grade."""

    scheme: NonBlank = Field(description="The evaluation scheme.")
    grade: NonBlank = Field(description="The grade, e.g. 优/良/中/差 or A/B/C/D.")
    valid_until: Date = Field(description="The last day the grade is valid.")


# -- license (行政许可) and incentive (守信激励): the other half of 双公示 ------------------


class LicenseGranted(DocumentedData):
    """An administrative licence (行政许可) granted: public while valid (双公示)."""

    license_type: NonBlank = Field(
        description="The kind of licence, e.g. 食品经营许可, 排污许可, 建筑业企业资质."
    )
    matter: NonBlank = Field(description="The licensed matter, in words.")
    valid_until: Date | None = Field(
        description="The last day the licence is valid, or null when it has no end."
    )


class LicenseChanged(EventData):
    """A granted licence was changed (变更): its ``changes`` replace those data fields."""

    license: Ref
    changes: Changes


class LicenseRevoked(EventData):
    """The licensing agency withdrew the licence record (撤销/注销; revocation as a
    punishment, 吊销, is the penalty kind ``revocation``)."""

    license: Ref
    reason: NonBlank = Field(description="Why the licence was withdrawn.")


class IncentiveGranted(EventData):
    """An incentive measure (守信激励) for a trustworthy subject, from the incentives list."""

    measure: NonBlank = Field(description="The measure's code in the incentives list.")
    basis: NonBlank = Field(description=_BASIS)
    until: Date | None = Field(description="The last day of the measure, or null.")


class IncentiveEnded(EventData):
    """An incentive measure ended before its ``until`` (e.g. the subject left the list)."""

    grant: Ref
    reason: NonBlank = Field(description="Why the measure ended.")


# -- inspection (双随机 spot checks) -----------------------------------------------------


class InspectionSelected(EventData):
    """The subject was drawn for a graded random spot check (双随机、一公开)."""

    draw: NonBlank = Field(description="The id of the draw this selection belongs to.")
    seed: int = Field(ge=0, description="The seed of the draw (random.Random(seed)).")
    tier: NonBlank = Field(description="The subject's supervision tier in the draw.")
    ratio: Ratio = Field(description="The spot-check ratio of the tier.")
