"""The paper built from results stores alone: claims tested over seeds, figures, tables, report.

``identlam paper --results DIR [DIR ...] [--out paper/] [--claims paper/claims.toml]``.
"""

from identlam.paper.claims import Claim, ClaimsError, Outcome, evaluate, load_claims, tally
from identlam.paper.report import build_report, load_stores

__all__ = ["Claim", "ClaimsError", "Outcome", "build_report", "evaluate", "load_claims", "load_stores", "tally"]
