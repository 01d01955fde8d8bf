"""One subject's whole life: the story families put together.

:class:`Life` is what :func:`demo.generate` runs for every subject: about 60 % clean
lives, 30 % with findings and 10 % heavy ones (``Subject.profile``).
"""

from __future__ import annotations

from datetime import timedelta

from demo.commitments import CommitmentStory
from demo.listings import ListingStory
from demo.story import Draft


class Life(CommitmentStory, ListingStory):
    """A subject's life, from its registration to the demo's "now"."""

    def run(self) -> list[Draft]:
        """Tell the whole life and return its events (in the order drafted): the
        responsible person, registrations, commitments, then by profile a minor
        penalty (clean), ordinary findings (findings) or a heavy life, and last the
        evaluations (their grades reflect the findings before each publication)."""
        s, rng = self.s, self.rng
        start_t = self.between(s.start, s.start + timedelta(days=20))
        role = (
            "legal-representative"
            if s.prefix in {"91", "93", "52", "53", "N2", "51"}
            else "principal"
        )
        if rng.random() < 0.85:
            rep = self.person(start_t, "samr", role)
            if rep is not None and rng.random() < 0.12:  # a change of legal representative
                self.person(self.days_after(rep, 120, 900), "samr", role, [rep])
        self.registrations()
        commitments = rng.randint(3, 6) if s.business else rng.randint(1, 3)
        if s.profile == "clean":
            commitments += 1
        for k in range(commitments):
            self.commitment(first=(k == 0))
        if s.profile == "clean":
            if s.business and rng.random() < 0.3:
                self.penalty(self.finding_time(), "minor")
        elif s.profile == "findings":
            for _ in range(rng.choice((1, 2, 3, 3, 4, 5, 6))):
                self.some_finding()
        else:
            self.heavy()
        self.evaluations()  # last: grades reflect the findings before each publication
        return self.events
