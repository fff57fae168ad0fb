"""The operators' and auditors' command line, built on the public API alone.

Every command takes ``--json``. Data goes to stdout, diagnostics (logs,
warnings) to stderr. Exit codes: 0 ok, 1 unexpected error, 2 bad input,
3 refused by a rule, 4 not found, 5 conflict, 6 configuration or database
unavailable, 7 a stored record failed its integrity check.

The modules, by family of commands:
  app          the root group, the session (the store), the error mapping
  render       the one renderer: JSON, tables, records, progress on stderr
  options      the shared options: --nir/--id, pages, files, publications
  actors       who acts: the --as-… flags
  operations   init, migrate, keys, deadlines, simulate
  lifecycle    affiliate, notify, reissue-code, oppose, activate, close, ...
  views        show, list, stats, projections
  records      doc (DOC-*)
  access       consent, journal, notifications, matrix (ACC-*)
  directory    directory (PRO-2)
  messages     message (MSG-*)
  services     agenda (AG-1), profile (PRO-1), services (PRO-3)
  audit        audit (ADR-0021)
  export       export fhir (issue 13, ADR-0031)
  imports      import legacy-dmp (issue 13, LC-6, ADR-0032)
"""

# Importing each family's module registers its commands on ``main``.
from espace.cli import (  # noqa: F401
    access,
    audit,
    directory,
    export,
    imports,
    lifecycle,
    messages,
    operations,
    records,
    services,
    views,
)
from espace.cli.app import main

__all__ = ["main"]
