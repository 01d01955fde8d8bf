"""The entry points: the ``ledger`` command line (:mod:`entrypoints.cli`), the
composition root (:mod:`entrypoints.bootstrap`), the settings object
(:mod:`entrypoints.settings`, the only reader of the environment), the rule and
calendar files (:mod:`entrypoints.rule_files`, the only reader of them) and the API's wiring
(:mod:`entrypoints.wiring`). Nothing below this package imports it."""
