"""Simulated weekly and monthly fundamentals: CFTC positions, USDA export sales, EPA RINs, EIA biofuels.

Positions follow past prices (managed money is trend-following, producers hedge against it) and exports
follow the crop calendar; none of them contains information about future ZL returns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ingest.release_times import (
    cftc_available_at,
    eia_monthly_available_at,
    epa_rin_available_at,
    usda_export_sales_available_at,
)
from ingest.sample.rng import stream


def cftc_positions(days: pd.DatetimeIndex, spot: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Disaggregated futures-only positions on Tuesdays for ZL, ZS and ZM."""
    tuesdays = pd.date_range(days[0], days[-1], freq="W-TUE")
    base_oi = {"ZL": 420_000, "ZS": 700_000, "ZM": 430_000}
    frames = []
    for root, oi0 in base_oi.items():
        gen = stream(seed, f"cftc.{root}")
        noise = gen.standard_normal((len(tuesdays), 4))
        price = spot[root].reindex(tuesdays, method="ffill").bfill()
        ret_4w = np.log(price).diff(4).fillna(0.0).values
        net_mm = np.empty(len(tuesdays))
        net_mm[0] = 0.05
        for t in range(1, len(tuesdays)):
            net_mm[t] = 0.9 * net_mm[t - 1] + 0.25 * ret_4w[t] + 0.02 * noise[t, 0]
        net_mm = np.clip(net_mm, -0.3, 0.3)
        oi = oi0 * np.exp(np.cumsum(0.02 * noise[:, 1]) * 0.3)
        net_pm = -0.8 * net_mm - 0.12 + 0.015 * noise[:, 2]
        frames.append(
            pd.DataFrame(
                {
                    "report_date": tuesdays.date,
                    "market_code": root,
                    "report_type": "futures_only",
                    "open_interest": oi.round().astype("int64"),
                    "prod_merc_long": (oi * np.clip(0.20 + net_pm / 2, 0.01, None)).round().astype("int64"),
                    "prod_merc_short": (oi * np.clip(0.20 - net_pm / 2, 0.01, None)).round().astype("int64"),
                    "swap_long": (oi * (0.18 + 0.01 * noise[:, 3])).round().astype("int64"),
                    "swap_short": (oi * 0.06).round().astype("int64"),
                    "managed_money_long": (oi * np.clip(0.15 + net_mm / 2, 0.01, None)).round().astype("int64"),
                    "managed_money_short": (oi * np.clip(0.15 - net_mm / 2, 0.01, None)).round().astype("int64"),
                    "other_reportable_long": (oi * 0.10).round().astype("int64"),
                    "other_reportable_short": (oi * 0.08).round().astype("int64"),
                    "nonreportable_long": (oi * 0.07).round().astype("int64"),
                    "nonreportable_short": (oi * 0.06).round().astype("int64"),
                    "available_at": cftc_available_at(tuesdays).values,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def usda_export_sales(days: pd.DatetimeIndex, seed: int) -> pd.DataFrame:
    """Weekly soybean export sales (total and China), seasonal over the Sep-Aug marketing year."""
    thursdays = pd.date_range(days[0], days[-1], freq="W-THU")
    gen = stream(seed, "usda.soybeans")
    noise = gen.standard_normal((len(thursdays), 3))
    week_of_my = ((thursdays.dayofyear - 244) % 365) / 7.0  # weeks since September 1
    season = np.exp(-((week_of_my - 8.0) ** 2) / (2 * 9.0**2))
    net_sales = np.maximum(120_000 + 1_300_000 * season * np.exp(0.35 * noise[:, 0]), -50_000)
    exports = np.maximum(150_000 + 1_500_000 * np.exp(-((week_of_my - 14.0) ** 2) / 200) * np.exp(0.2 * noise[:, 1]), 0)
    trade_war = (thursdays >= "2018-07-06") & (thursdays <= "2019-12-31")
    china_share = np.clip(0.55 * season + 0.05 + 0.08 * noise[:, 2], 0.0, 0.85)
    china_share = np.where(trade_war, china_share * 0.15, china_share)
    outstanding = np.empty(len(thursdays))
    level = 8_000_000.0
    for t in range(len(thursdays)):
        level = max(level + net_sales[t] - exports[t], 500_000.0)
        outstanding[t] = level
    available = usda_export_sales_available_at(thursdays).values
    total = pd.DataFrame(
        {
            "commodity": "soybeans",
            "destination": "ALL",
            "week_ending_date": thursdays.date,
            "net_sales_mt": net_sales.round(),
            "exports_mt": exports.round(),
            "outstanding_sales_mt": outstanding.round(),
            "available_at": available,
        }
    )
    china = total.assign(
        destination="CHINA",
        net_sales_mt=(net_sales * china_share).round(),
        exports_mt=(exports * np.clip(china_share * 1.1, 0, 0.9)).round(),
        outstanding_sales_mt=(outstanding * china_share).round(),
    )
    return pd.concat([total, china], ignore_index=True)


def epa_rin_prices(days: pd.DatetimeIndex, seed: int) -> pd.DataFrame:
    """Weekly average RIN prices, USD per RIN: D3 (cellulosic), D4 (biomass-based diesel), D5 (advanced) and
    D6 (renewable fuel), nested as the RFS makes them (D3 > D5 and D4 >= D5 >= D6 most of the time)."""
    fridays = pd.date_range(days[0], days[-1], freq="W-FRI")
    n = len(fridays)
    eps = stream(seed, "epa.rin").standard_normal((n, 2))
    log_d6 = np.empty(n)
    spread = np.empty(n)
    log_d6[0], spread[0] = np.log(0.15), 0.6
    for t in range(1, n):
        log_d6[t] = np.log(0.5) + 0.985 * (log_d6[t - 1] - np.log(0.5)) + 0.09 * eps[t, 0]
        spread[t] = 0.25 + 0.97 * (spread[t - 1] - 0.25) + 0.04 * eps[t, 1]
    d6 = np.exp(log_d6)
    d4 = d6 + np.maximum(spread, 0.01)
    d5 = d6 + 0.6 * np.maximum(spread, 0.01)
    d3 = d5 + np.exp(np.log(1.2) + 0.3 * np.tanh(np.cumsum(eps[:, 0]) / 30))
    available = epa_rin_available_at(fridays).values
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "rin_type": rin,
                    "week_ending_date": fridays.date,
                    "price_usd_per_rin": np.round(values, 4),
                    "available_at": available,
                }
            )
            for rin, values in (("D3", d3), ("D4", d4), ("D5", d5), ("D6", d6))
        ],
        ignore_index=True,
    )


EIA_SERIES = {
    "biodiesel_production": ("million gallons", 80.0, 0.006),
    "renewable_diesel_production": ("million gallons", 10.0, 0.02),
    "soybean_oil_feedstock_use": ("million pounds", 350.0, 0.007),
}


def eia_observations(days: pd.DatetimeIndex, seed: int) -> pd.DataFrame:
    """Monthly US biofuel production and soybean oil feedstock use with trend, season and noise."""
    months = pd.date_range(days[0] - pd.offsets.MonthBegin(1), days[-1], freq="MS")
    frames = []
    for series_id, (units, level0, growth) in EIA_SERIES.items():
        eps = stream(seed, f"eia.{series_id}").standard_normal(len(months))
        t = np.arange(len(months))
        season = 1 + 0.08 * np.sin(2 * np.pi * (months.month - 4) / 12)
        values = level0 * np.exp(growth * t + np.cumsum(0.03 * eps) * 0.5) * season
        frames.append(
            pd.DataFrame(
                {
                    "series_id": series_id,
                    "period_date": months.date,
                    "frequency": "monthly",
                    "value": np.round(values, 2),
                    "units": units,
                    "available_at": eia_monthly_available_at(months).values,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
