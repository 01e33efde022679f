#!/usr/bin/env python3
"""Reference cases for `footprint evaluate synth`, from implementations independent of ours.

- Weights: the simplex-constrained least-squares problem solved exactly by quadprog
  (Goldfarb-Idnani dual active set) where the Hessian is positive definite; where it is
  singular (duplicated donors, more donors than fitted rows) only the loss is kept.
- Predictors: standardised by their SD across treated and donors (ddof 1, as pandas and
  pysyncon do).
- Nested V: pysyncon's Synth (Nelder-Mead over V, SLSQP inner) gives the pre-period MSPE that
  ours must at least match.
- Placebos: each donor treated in turn from the other donors; p = units with ratio >= the
  treated unit's (treated included) over donors + 1.

Writes crates/evaluation/tests/data/synth_reference.json. Run: python3 bench/evaluation_reference.py
"""
import json
import os

import numpy as np
import pandas as pd
import quadprog

rng = np.random.default_rng(20161)
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "crates", "evaluation", "tests", "data", "synth_reference.json")


def simplex_ls(A, b, tie=None):
    """min ||A w - b||^2, w >= 0, sum w = 1; returns (w, loss, exact). `tie`: the ridge's
    diagonal where the Hessian is singular (a different one picks a different optimum when the
    optimum is not unique)."""
    J = A.shape[1]
    G = A.T @ A
    exact = np.linalg.matrix_rank(A, tol=1e-10 * max(1.0, np.abs(A).max())) == J
    if not exact:
        G = G + 1e-9 * np.trace(G) / J * np.diag(np.ones(J) if tie is None else tie)
    a = A.T @ b
    C = np.hstack([np.ones((J, 1)), np.eye(J)])
    bv = np.hstack([[1.0], np.zeros(J)])
    w = quadprog.solve_qp(G, a, C, bv, meq=1)[0]
    w = np.clip(w, 0, None)
    w = w / w.sum()
    if not exact:
        # Polish: re-solve exactly on the support the ridge found, where it has full rank, and
        # keep it if it is no worse (then it is the exact optimum on that face).
        S = np.where(w > 1e-8)[0]
        AS = A[:, S]
        if len(S) and np.linalg.matrix_rank(AS, tol=1e-10 * max(1.0, np.abs(A).max())) == len(S):
            CS = np.hstack([np.ones((len(S), 1)), np.eye(len(S))])
            ws = quadprog.solve_qp(AS.T @ AS, AS.T @ b, CS, np.hstack([[1.0], np.zeros(len(S))]), meq=1)[0]
            cand = np.zeros(J)
            cand[S] = np.clip(ws, 0, None) / np.clip(ws, 0, None).sum()
            rc, rw = A @ cand - b, A @ w - b
            if rc @ rc <= rw @ rw + 1e-15:
                w = cand
    r = A @ w - b
    return w, float(r @ r), bool(exact)


def fit(Y, treated, donors, T0, X=None, v=None):
    y1 = Y[treated]
    y0 = np.column_stack([Y[d] for d in donors])
    if X is None:
        A, b = y0[:T0], y1[:T0]
    else:
        names = list(X.keys())
        units = [treated] + donors
        M = np.array([[X[n][u] for u in units] for n in names])
        sd = M.std(axis=1, ddof=1)
        sd[sd == 0] = 1.0
        M = M / sd[:, None]
        s = np.sqrt(np.asarray(v, dtype=float))
        A, b = s[:, None] * M[:, 1:], s * M[:, 0]
    # Donors identical to an earlier one in every period and predictor are dropped before the
    # exact solve (their weight is not identified; the fit and the path are).
    keep = [j for j in range(len(donors))
            if not any(np.array_equal(y0[:, j], y0[:, i]) and np.array_equal(A[:, j], A[:, i]) for i in range(j))]
    wk, loss, exact = simplex_ls(A[:, keep], b)
    # Identified when a second tie-break finds the same weights.
    other, _, _ = simplex_ls(A[:, keep], b, tie=np.linspace(1.0, 3.0, len(keep)))
    identified = bool(np.abs(other - wk).max() < 1e-6)
    w = np.zeros(len(donors))
    w[keep] = wk
    exact = exact and len(keep) == len(donors)
    synth = y0 @ w
    gap = y1 - synth
    pre = float(np.mean(gap[:T0] ** 2))
    post = float(np.mean(gap[T0:] ** 2))
    return dict(w=w, loss=loss, exact=exact, identified=identified, synthetic=synth, gap=gap, pre_mspe=pre, post_mspe=post)


def ratio(f):
    """Post/pre RMSPE; an exact pre-period fit (RMSPE below 1e-9 of the outcome's scale) gives
    infinity when the post-period gap is not also zero, and no ratio (no effect) when it is."""
    tiny = 1e-9 * np.abs(f["synthetic"]).max()
    pre, post = np.sqrt(f["pre_mspe"]), np.sqrt(f["post_mspe"])
    if pre > tiny:
        return float(post / pre)
    return float("inf") if post > tiny else None


def case(name, Y, treated, donors, T0, X=None, v="outcome", placebo=True, nested=False, unique=None):
    """`unique`: whether the weights are identified, where the construction says so."""
    req = {"outcome": {k: list(map(float, s)) for k, s in Y.items()}, "treated": treated, "donors": donors,
           "pre_periods": T0, "v": v, "placebo": placebo}
    if X is not None:
        req["predictors"] = {n: {u: float(x) for u, x in d.items()} for n, d in X.items()}
    exp = {}
    if nested:
        from pysyncon import Synth
        units = [treated] + donors
        names = list(X.keys())
        X0 = pd.DataFrame({d: [X[n][d] for n in names] for d in donors}, index=names)
        X1 = pd.Series([X[n][treated] for n in names], index=names, name=treated)
        Z0 = pd.DataFrame({d: Y[d][:T0] for d in donors})
        Z1 = pd.Series(Y[treated][:T0], name=treated)
        s = Synth()
        s.fit(X0=X0, X1=X1, Z0=Z0, Z1=Z1)
        exp["pysyncon_pre_mspe"] = float(s.loss_V)
        # pysyncon's inner SLSQP stops short of the exact optimum; where the site is inside the
        # donors' hull in predictor space that slack buys outcome fit an exact inner solve does
        # not have (recorded: its predictor loss at its own V).
        M = np.array([[X[n][u] for u in units] for n in names])
        M = M / M.std(axis=1, ddof=1)[:, None]
        Vd = np.asarray(s.V)
        r = np.sqrt(Vd) * (M[:, 1:] @ np.asarray(s.W) - M[:, 0])
        exp["pysyncon_loss_w"] = float(r @ r)
        exp["pysyncon_v"] = [float(x) for x in s.V]
    else:
        f = fit(Y, treated, donors, T0, X, None if v == "outcome" else v)
        exp.update(
            loss_w=f["loss"], pre_mspe=f["pre_mspe"], post_mspe=f["post_mspe"],
            gap=[float(g) for g in f["gap"]], synthetic=[float(g) for g in f["synthetic"]],
            att_mean_post_gap=float(np.mean(f["gap"][T0:])),
            rmspe_ratio=(ratio(f) if ratio(f) is not None and np.isfinite(ratio(f)) else None),
        )
        if unique is not None:
            exp["unique"] = unique
        # The post-period path is identified unless tied optimal weights disagree after treatment
        # (duplicated donors agree everywhere).
        exp["post_identified"] = not (unique is False and name != "duplicated_donors")
        if unique is False and name != "duplicated_donors":
            # Only the fit is identified: the pre-period outcome path is not (with predictors).
            exp.pop("pre_mspe")
        # Exact where the Hessian is definite; with the small ridge otherwise (weights then
        # checked only where the construction says they are identified).
        if f["exact"] or unique:
            exp["weights"] = {d: float(w) for d, w in zip(donors, f["w"])}
        if placebo:
            ratios = {treated: ratio(f)}
            ambiguous = []
            for d in donors:
                others = [o for o in donors if o != d]
                if not others:
                    ratios[d] = None
                    continue
                Xp = None if X is None else X
                fp = fit(Y, d, others, T0, Xp, None if v == "outcome" else v)
                ratios[d] = ratio(fp)
                if not fp["identified"]:
                    ambiguous.append(d)
            t = ratios[treated] if ratios[treated] is not None else 0.0
            count = 1 + sum(1 for d in donors if (ratios[d] or 0.0) >= t * (1 - 1e-9))
            # Placebo fits whose weights are not identified: their ratios depend on the tie-break
            # (and so may the p-value); not compared.
            exp["placebo_ambiguous"] = ambiguous
            exp["placebo_infinite"] = sorted(k for k, r in ratios.items() if r == float("inf"))
            exp["placebo_ratios"] = {k: (r if r is not None and np.isfinite(r) else None) for k, r in ratios.items()}
            exp["p_value_rmspe_ratio"] = count / (len(donors) + 1)
    return {"name": name, "request": req, "expected": exp}


def panel(J, T, level=100.0):
    base = level + rng.normal(0, 10, J)
    trend = rng.normal(0, 0.5, J)
    return {f"d{j}": base[j] + trend[j] * np.arange(T) + rng.normal(0, 2, T) for j in range(J)}


cases = []
# In the hull: treated is a mix of three donors plus a little noise, with an effect of -8 after T0.
T, T0 = 24, 16
Y = panel(10, T)
y = 0.5 * Y["d1"] + 0.3 * Y["d4"] + 0.2 * Y["d7"] + rng.normal(0, 0.3, T)
y[T0:] -= 8
Y["site"] = y
cases.append(case("in_hull", Y, "site", [f"d{j}" for j in range(10)], T0, unique=True))
# Outside the hull: treated above every donor.
Y = panel(8, T)
Y["site"] = max(s.max() for s in Y.values()) + 15 + rng.normal(0, 2, T)
cases.append(case("outside_hull", Y, "site", [f"d{j}" for j in range(8)], T0))
# More donors than pre-periods (weights not generally identified, fit exact).
Y = panel(12, 10)
Y["site"] = np.mean([Y[f"d{j}"] for j in range(12)], axis=0)  # the centroid: inside the hull
cases.append(case("more_donors_than_periods", Y, "site", [f"d{j}" for j in range(12)], 6, placebo=False, unique=False))
# Duplicated donors.
Y = panel(6, T)
Y["d6"] = Y["d2"].copy()
Y["site"] = 0.5 * Y["d2"] + 0.5 * Y["d4"] + rng.normal(0, 1, T)
cases.append(case("duplicated_donors", Y, "site", [f"d{j}" for j in range(7)], T0, unique=False))
# Small pools.
Y = panel(2, 12)
Y["site"] = 0.7 * Y["d0"] + 0.3 * Y["d1"] + rng.normal(0, 1, 12)
cases.append(case("two_donors", Y, "site", ["d0", "d1"], 8, unique=True))
Y = panel(1, 12)
Y["site"] = Y["d0"] + 3 + rng.normal(0, 1, 12)
cases.append(case("one_donor", Y, "site", ["d0"], 8, unique=True))
# Covariates with a fixed diagonal V.
J = 15
Y = panel(J, T)
Y["site"] = 0.6 * Y["d3"] + 0.4 * Y["d11"] + rng.normal(0, 1, T)
units = ["site"] + [f"d{j}" for j in range(J)]
X = {
    "pre_mean": {u: float(np.mean(Y[u][:T0])) for u in units},
    "over_65": {u: float(rng.uniform(10, 25)) for u in units},
    "deprivation": {u: float(rng.uniform(5, 45)) for u in units},
    "last_pre": {u: float(Y[u][T0 - 1]) for u in units},
}
# Inside the donors' hull in predictor space: many weights fit exactly (only the fit is checked).
cases.append(case("covariates_fixed_v_inside", Y, "site", [f"d{j}" for j in range(J)], T0, X, v=[0.5, 0.1, 0.1, 0.3],
                  placebo=False, unique=False))
# Outside it (the site's list is older than any donor's): the weights are identified.
X_out = {k: dict(v) for k, v in X.items()}
X_out["over_65"]["site"] = 30.0
cases.append(case("covariates_fixed_v", Y, "site", [f"d{j}" for j in range(J)], T0, X_out, v=[0.5, 0.1, 0.1, 0.3],
                  unique=True))
cases.append(case("covariates_nested_v", Y, "site", [f"d{j}" for j in range(J)], T0, X, v="nested", placebo=False, nested=True))
# A second nested case: fewer donors.
J = 8
Y = panel(J, 20)
Y["site"] = 0.5 * Y["d0"] + 0.5 * Y["d5"] + rng.normal(0, 1.5, 20)
units = ["site"] + [f"d{j}" for j in range(J)]
X = {
    "mean_early": {u: float(np.mean(Y[u][:6])) for u in units},
    "mean_late": {u: float(np.mean(Y[u][6:12])) for u in units},
    "list_size": {u: float(rng.uniform(5000, 15000)) for u in units},
}
cases.append(case("covariates_nested_small", Y, "site", [f"d{j}" for j in range(J)], 12, X, v="nested", placebo=False, nested=True))

with open(OUT, "w") as f:
    json.dump({"source": "bench/evaluation_reference.py (quadprog, pysyncon 1.7.0)", "cases": cases}, f, indent=1)
print(f"wrote {len(cases)} cases to {OUT}")

# Interrupted time series: statsmodels OLS with Newey-West (HAC, Bartlett) errors, no small-
# sample correction, on the design of src/its.rs.
import statsmodels.api as sm

its_cases = []
for seed, (n, s, start_month) in enumerate([(36, 18, 4), (48, 30, 1), (30, 14, 10), (24, 12, 7)]):
    r = np.random.default_rng(100 + seed)
    months = [((start_month - 1 + t) % 12) + 1 for t in range(n)]
    t = np.arange(n)
    season = 0.08 * np.cos(2 * np.pi * (np.array(months) - 1) / 12)
    noise = np.zeros(n)
    for i in range(n):
        noise[i] = (0.5 * noise[i - 1] if i else 0) + r.normal(0, 0.02)
    y = np.log(9.0) + 0.002 * t + season - 0.1 * (t >= s) + noise
    present = sorted(set(months))
    season_terms = present[1:] if s >= 24 else []
    cols = [np.ones(n), t, (t >= s) * 1.0, (t >= s) * (t - s)]
    cols += [np.array([1.0 if m == k else 0.0 for m in months]) for k in season_terms]
    if 12 <= s < 24:
        ang = 2 * np.pi * (np.array(months) - 1) / 12
        cols += [np.sin(ang), np.cos(ang)]
    X = np.column_stack(cols)
    lag = int(np.floor(4 * (n / 100) ** (2 / 9)))
    fit = sm.OLS(y, X).fit(cov_type="HAC", cov_kwds={"maxlags": lag, "use_correction": False})
    c = np.zeros(X.shape[1])
    c[2] = 1
    c[3] = np.mean(np.arange(n - s))
    eff = float(c @ fit.params)
    se = float(np.sqrt(c @ fit.cov_params() @ c))
    its_cases.append({"y": list(map(float, y)), "months": months, "start": s, "lag": lag,
                      "coefficients": list(map(float, fit.params)), "se": list(map(float, fit.bse)),
                      "log_effect": eff, "log_effect_se": se})
with open(os.path.join(HERE, "..", "crates", "evaluation", "tests", "data", "its_reference.json"), "w") as f:
    json.dump({"source": "bench/evaluation_reference.py (statsmodels OLS, HAC Bartlett, use_correction=False)",
               "cases": its_cases}, f, indent=1)
print(f"wrote {len(its_cases)} ITS cases")
