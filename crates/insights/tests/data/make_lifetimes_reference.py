"""Computes the lifetimes reference figures for synthetic_5000.csv, once (BG/NBD with tol=1e-10; Gamma-Gamma at its default tol,
as a tighter one makes scipy report precision loss at the same optimum).

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install lifetimes
    /tmp/venv/bin/python make_lifetimes_reference.py > synthetic_5000_lifetimes.json

(lifetimes 0.11.3, numpy 2.4, pandas 3.1, scipy 1.17, autograd 1.9 were used.)
"""
import json

import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter

d = pd.read_csv("synthetic_5000.csv")
bg = BetaGeoFitter().fit(d["frequency"], d["recency"], d["T"], tol=1e-10)
rep = d[d["frequency"] > 0]
gg = GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
rows = [0, 1, 2, 3, 4, 5, 10, 50, 100, 500, 1000, 2500, 4999]
rows += list(d.sort_values("frequency").index[-3:])  # the heaviest buyers
sub = d.loc[rows]
p_alive = bg.conditional_probability_alive(sub["frequency"], sub["recency"], sub["T"])
purchases = bg.conditional_expected_number_of_purchases_up_to_time(10.0, sub["frequency"], sub["recency"], sub["T"])
spend = gg.conditional_expected_average_profit(sub["frequency"], sub["monetary_value"])
clv = gg.customer_lifetime_value(
    bg, sub["frequency"], sub["recency"], sub["T"], sub["monetary_value"], time=12, discount_rate=0.01, freq="W"
)
print(
    json.dumps(
        {
            "bgnbd": {k: float(v) for k, v in bg.params_.items()},
            "gamma_gamma": {k: float(v) for k, v in gg.params_.items()},
            "expected_purchases_horizon": 10.0,
            "clv_months": 12,
            "clv_monthly_discount_rate": 0.01,
            "customers": [
                {
                    "row": int(i),
                    "p_alive": float(p_alive[j]),
                    "expected_purchases": float(purchases.iloc[j]),
                    "expected_average_spend": float(spend.iloc[j]),
                    "clv": float(clv.iloc[j]),
                }
                for j, i in enumerate(rows)
            ],
        },
        indent=1,
    )
)
