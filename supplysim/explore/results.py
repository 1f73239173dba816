"""Read access to a stored exploration: outcomes per point, sensitivity, scenario discovery, lever effects.

Everything is computed from ``OUT/results.sqlite`` (the design, the explore
file's text and the replications' metrics and series are all in it), so a
report can be rebuilt, or analysed with another threshold, without running
anything. Outcomes are read one replication at a time (memory holds a points x
replications matrix per outcome).

Examples
--------
>>> import tempfile
>>> from supplysim.explore.run import Exploration
>>> from supplysim.explore.spec import parse_spec
>>> from supplysim.explore.testfunctions import ishigami
>>> spec = parse_spec("".join(f"[uncertainties.x{i}]\\nkeys = []\\nrange = [-3.14, 3.14]\\n" for i in (1, 2, 3))
...                   + "[outcomes.y]\\nmetric = 'y'\\nthreshold = 8.0\\n", "ishigami.toml")
>>> out = tempfile.mkdtemp()
>>> _ = Exploration(None, spec, "full", 5, reps=1, seed=1, out=out, evaluator=ishigami).run(progress=False)
>>> res = ExplorationResults(out)
>>> res.share_bad("y")["bad"], len(res.points)       # y > 8 needs sin(x1) = 1 and sin(x2)^2 = 1
(14, 125)
>>> res.discovery("y").box.describe()
'1.57 <= x1 <= 1.57 and -1.57 <= x2 <= 1.57'
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..experiment.stats import mean_ci, paired, wilson
from ..experiment.store import Store
from .analysis import sensitivity
from .designs import Design
from .outcomes import outcome_matrix, point_mean
from .prim import prim
from .spec import parse_spec

__all__ = ["ExplorationResults"]


class ExplorationResults:
    """A stored exploration (``OUT/results.sqlite`` written by :class:`~supplysim.explore.run.Exploration`)."""

    def __init__(self, out):
        self.out = Path(out)
        db = self.out / "results.sqlite"
        if not db.is_file():
            raise FileNotFoundError(f"{db} not found: run supplysim explore first")
        self.store = Store(db)
        self.manifest = self.store.manifest()
        if self.manifest.get("kind") != "explore":
            raise ValueError(f"{db} is not an exploration (supplysim report rebuilds a scenario comparison)")
        self.spec = parse_spec(self.manifest["spec_text"], self.manifest["spec_file"])
        self.design = Design.from_json(self.manifest["design"])
        self.points = list(self.design.points())
        self.reps = int(self.manifest["reps"])
        self.entropy = int(self.manifest["entropy"])
        self._memo = {}

    def close(self):
        self.store.close()

    @property
    def policies(self) -> list:
        """Lever combinations in design order (``[""]`` without levers)."""
        return [p for p, _ in self.design.policies]

    def labels(self, policy=None) -> list:
        return [p.label for p in self.points if policy is None or p.policy == policy]

    def outcomes(self) -> dict:
        """``{outcome: array (points x reps)}`` in point order (NaN for replications not stored)."""
        if "outcomes" not in self._memo:
            self._memo["outcomes"] = outcome_matrix(self.store, self.labels(), self.reps, self.spec.outcomes)
        return self._memo["outcomes"]

    def completed(self) -> int:
        """Stored replications of the design's points."""
        return sum(1 for s, r in self.store.done() if r < self.reps)

    def means(self, outcome, policy=None) -> np.ndarray:
        """Each point's mean over its replications (the points of ``policy`` only, if given)."""
        m = point_mean(self.outcomes()[outcome])
        if policy is None:
            return m
        return m[[i for i, p in enumerate(self.points) if p.policy == policy]]

    def inputs(self, policy=None) -> np.ndarray:
        """Uncertainty values (scenario rows x uncertainties), in design order."""
        return np.array([[row[n] for n in self.design.names] for row in self.design.rows], float)

    # -- analyses ----------------------------------------------------------------------------------------
    def sensitivity(self, outcome, policy=None) -> dict:
        """Sensitivity indices of ``outcome`` under one lever combination (see :mod:`.analysis`)."""
        policy = self.policies[0] if policy is None else policy
        return sensitivity(self.design, self.means(outcome, policy), self.entropy, outcome)

    def threshold(self, outcome, threshold=None):
        o = self.spec.outcome(outcome)
        t = o.threshold if threshold is None else threshold
        if t is None:
            raise ValueError(f"outcome {outcome} has no threshold: give one (threshold = ... in the explore file "
                             "or --threshold)")
        return t, o.worse

    def bad(self, outcome, policy=None, threshold=None) -> np.ndarray:
        """1 where a point's mean outcome is worse than the threshold, 0 where not, NaN where undefined."""
        t, worse = self.threshold(outcome, threshold)
        y = self.means(outcome, policy)
        with np.errstate(invalid="ignore"):
            b = (y > t) if worse == "above" else (y < t)
        return np.where(np.isfinite(y), b.astype(float), np.nan)

    def share_bad(self, outcome, policy=None, threshold=None) -> dict:
        """Share of the sampled futures worse than the threshold, with its Wilson 95% interval."""
        b = self.bad(outcome, policy, threshold)
        ok = b[np.isfinite(b)]
        k, n = int(ok.sum()), int(ok.size)
        lo, hi = wilson(k, n)
        return {"bad": k, "n": n, "share": k / n if n else float("nan"), "ci_low": lo, "ci_high": hi}

    def discovery(self, outcome, policy=None, threshold=None, density=0.8, **kw):
        """PRIM box of the futures where ``outcome`` is worse than its threshold (see :mod:`.prim`)."""
        policy = self.policies[0] if policy is None else policy
        return prim(self.inputs(policy), self.bad(outcome, policy, threshold), self.design.names, density=density,
                    **kw)

    def lever_effect(self, outcome, policy, reference=None, threshold=None) -> dict:
        """``policy`` against ``reference`` over the same futures: paired difference of the mean outcome
        (common random numbers and the same uncertainty sample) and how many futures change side."""
        reference = self.policies[0] if reference is None else reference
        a, b = self.means(outcome, reference), self.means(outcome, policy)
        out = {"reference": reference, "policy": policy, "difference": paired(a, b),
               "reference_mean": mean_ci(a), "policy_mean": mean_ci(b)}
        if self.spec.outcome(outcome).threshold is not None or threshold is not None:
            ba, bb = self.bad(outcome, reference, threshold), self.bad(outcome, policy, threshold)
            ok = np.isfinite(ba) & np.isfinite(bb)
            out["bad_to_good"] = int(((ba == 1) & (bb == 0) & ok).sum())
            out["good_to_bad"] = int(((ba == 0) & (bb == 1) & ok).sum())
        return out
