"""Application services over the ledger and its projections: the deadline job
(:mod:`services.deadlines`), spot checks (:mod:`services.spotcheck`), the person
extension (:mod:`services.persons`), the responsible-persons read
(:mod:`services.responsible`), the unverified-records review (:mod:`services.unverified`)
and the Kafka ingest consumer (:mod:`services.ingest`)."""
