#!/usr/bin/env python3
"""Reference answers for the programme office, from independent implementations.

- Portfolio selection: SciPy's `milp` (HiGHS) on random instances with budget and quotas.
- Peer review: z-scores by NumPy (population SD, ddof=0), self-review and conflicts excluded.

Writes crates/programme/tests/data/reference.json. Run: python3 bench/programme_reference.py
"""
import json, os, random
import numpy as np
from scipy.optimize import milp, LinearConstraint, Bounds

MODELS = ["mcp", "pacs", "uec", "acc", "ehch"]
REGIONS = ["Y56", "Y58", "Y59", "Y60", "Y61", "Y62", "Y63"]


def instance(seed, n, nquota):
    rng = random.Random(seed)
    bids = []
    for i in range(n):
        cost = rng.randint(100, 1000) * 1000
        value = round(cost / 1000 * rng.uniform(0.5, 1.5), 1)
        bids.append({"id": f"B{i+1:03d}", "model": rng.choice(MODELS), "region_code": rng.choice(REGIONS),
                     "quintile": str(rng.randint(1, 5)), "cost": cost, "value": value})
    total = sum(b["cost"] for b in bids)
    quotas = []
    fields = [("model", MODELS), ("region_code", REGIONS), ("quintile", ["1", "2", "3", "4", "5"])]
    for q in range(nquota):
        field, values = fields[q % 3]
        value = values[(q // 3) % len(values)]
        members = sum(1 for b in bids if b[field] == value)
        lo = min(members, rng.randint(0, 2 + n // 40))
        hi = rng.choice([None, lo + rng.randint(1, 3 + n // 30)])
        quotas.append({"field": field, "value": value, "min": lo, "max": hi})
    return bids, {"budget": round(total * rng.uniform(0.15, 0.4)), "quota": quotas}


def solve(bids, rules):
    n = len(bids)
    c = -np.array([b["value"] for b in bids])
    rows, lo, hi = [[b["cost"] for b in bids]], [-np.inf], [rules["budget"]]
    for q in rules["quota"]:
        rows.append([1.0 if b[q["field"]] == q["value"] else 0.0 for b in bids])
        lo.append(q["min"])
        hi.append(np.inf if q["max"] is None else q["max"])
    res = milp(c, constraints=LinearConstraint(np.array(rows), lo, hi), integrality=np.ones(n), bounds=Bounds(0, 1),
               options={"mip_rel_gap": 0})
    if res.status == 2:
        return None
    assert res.status == 0, res.message
    return round(-res.fun, 6)


def reviews(seed):
    rng = random.Random(seed)
    apps = [{"id": str(i + 1), "applicant_org_code": f"ORG{i % 9}"} for i in range(14)]
    revs = []
    for r in range(9):
        org = f"ORG{r}"
        lenient = rng.uniform(-2, 2)
        for a in rng.sample(apps, 7):
            revs.append({"reviewer_org_code": org, "application_id": a["id"],
                         "score": float(min(10, max(0, round(5 + lenient + rng.gauss(0, 2))))),
                         "conflict": rng.random() < 0.1})
    # one reviewer who gives everyone the same score (SD 0: z = 0)
    for a in apps[:4]:
        revs.append({"reviewer_org_code": "FLAT", "application_id": a["id"], "score": 7.0, "conflict": False})
    owner = {a["id"]: a["applicant_org_code"] for a in apps}
    counted = [r for r in revs if not r["conflict"] and owner[r["application_id"]] != r["reviewer_org_code"]]
    z = {}
    for org in {r["reviewer_org_code"] for r in counted}:
        mine = [r for r in counted if r["reviewer_org_code"] == org]
        s = np.array([r["score"] for r in mine])
        sd = s.std(ddof=0)
        for r in mine:
            z.setdefault(r["application_id"], []).append(0.0 if sd == 0 else (r["score"] - s.mean()) / sd)
    scored = sorted(((float(np.mean(v)), k, len(v)) for k, v in z.items()), key=lambda t: (-t[0], int(t[1])))
    rest = sorted((a["id"] for a in apps if a["id"] not in z), key=int)
    ranking = [{"id": k, "score": s, "reviews_used": n} for s, k, n in scored] + \
              [{"id": k, "score": None, "reviews_used": 0} for k in rest]
    return {"applications": apps, "reviews": revs, "ranking": ranking}


def bench(path, count):
    """Instances of the issue's size (269 bids, 10 quotas) solved by HiGHS, timed."""
    import time
    cases = []
    for seed in range(1000, 1000 + count):
        bids, rules = instance(seed, 269, 10)
        t = time.perf_counter()
        value = solve(bids, rules)
        cases.append({"seed": seed, "bids": bids, "rules": rules, "total_value": value,
                      "highs_seconds": time.perf_counter() - t})
    with open(path, "w") as f:
        json.dump(cases, f)
    times = sorted(c["highs_seconds"] for c in cases)
    print(f"HiGHS: {count} instances, median {times[len(times) // 2]:.4f} s, max {times[-1]:.4f} s")


def main():
    import sys
    if len(sys.argv) == 4 and sys.argv[1] == "--bench":
        return bench(sys.argv[2], int(sys.argv[3]))
    out = {"source": "SciPy milp (HiGHS) and NumPy, bench/programme_reference.py", "select": [], "review": []}
    for seed, (n, k) in enumerate([(10, 3), (14, 4), (16, 6), (40, 6), (80, 8), (150, 10), (269, 10), (269, 10)]):
        bids, rules = instance(seed, n, k)
        out["select"].append({"seed": seed, "bids": bids, "rules": rules, "total_value": solve(bids, rules)})
    for seed in range(3):
        out["review"].append(reviews(100 + seed))
    path = os.path.join(os.path.dirname(__file__), "..", "crates", "programme", "tests", "data", "reference.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print("wrote", path, [s["total_value"] for s in out["select"]])


if __name__ == "__main__":
    main()
