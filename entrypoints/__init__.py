"""The entry points: the ``ledger`` command line (:mod:`entrypoints.cli`), the
composition root (:mod:`entrypoints.bootstrap`), the settings object
(:mod:`entrypoints.settings`, the only reader of the environment) and the API's wiring
(:mod:`entrypoints.wiring`). Nothing below this package imports it."""
