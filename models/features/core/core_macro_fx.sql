{#- The core feature set (~57 columns): FX, macro, ZL price/volume and cross-asset spreads, one row per ZL
    trading day, every value known at the end of its as_of_date. Momentum, volatility and correlation use the
    back-adjusted returns on the ZL calendar; windows count ZL trading days. -#}
with

calendar as (

    select * from {{ ref('int_calendar__zl_trading_days') }}

),

futures as (

    select * from {{ ref('int_futures__daily_aligned') }}

),

fred as (

    select * from {{ ref('int_macro__fred_as_of') }}

),

joined as (

    select
        calendar.as_of_date,
        futures.* exclude (as_of_date),  -- noqa: RF02
        fred.* exclude (as_of_date),  -- noqa: RF02
        -- USD per BRL: the 6L future where it trades, else FRED's BRL per USD inverted
        coalesce(futures.brl_close, case when fred.brl_per_usd > 0 then 1 / fred.brl_per_usd end)
            as brl_usd_per_brl,
        case
            when fred.brl_per_usd > 0 and lag(fred.brl_per_usd) over (order by calendar.as_of_date) > 0
                then -ln(fred.brl_per_usd / lag(fred.brl_per_usd) over (order by calendar.as_of_date))
        end as brl_fred_log_return_1d,
        case
            when fred.usd_broad_index > 0 and lag(fred.usd_broad_index) over (order by calendar.as_of_date) > 0
                then ln(fred.usd_broad_index / lag(fred.usd_broad_index) over (order by calendar.as_of_date))
        end as usd_broad_log_return_1d

    from calendar
    left join futures on calendar.as_of_date = futures.as_of_date
    left join fred on calendar.as_of_date = fred.as_of_date

),

returns as (

    select
        *,
        coalesce(brl_log_return_1d, brl_fred_log_return_1d) as brl_ret,
        coalesce(dx_log_return_1d, usd_broad_log_return_1d) as dollar_ret,
        coalesce(dx_close, usd_broad_index) as dollar_index_level,
        case when brl_usd_per_brl > 0 then zl_close / brl_usd_per_brl end as terms_of_trade_brl_cents_per_lb

    from joined

),

features as (

    select
        as_of_date,

        -- FX
        brl_usd_per_brl,
        {{ rolling('sum', 'brl_ret', 21) }} as brl_mom_21d,
        {{ rolling('sum', 'brl_ret', 63) }} as brl_mom_63d,
        {{ rolling('sum', 'brl_ret', 252) }} as brl_mom_252d,
        {{ annualised_vol('brl_ret', 21) }} as brl_vol_21d_ann,
        {{ annualised_vol('brl_ret', 63) }} as brl_vol_63d_ann,
        {{ rolling('sum', 'dollar_ret', 21) }} as dollar_mom_21d,
        {{ rolling('sum', 'dollar_ret', 63) }} as dollar_mom_63d,
        {{ rolling('sum', 'dollar_ret', 252) }} as dollar_mom_252d,
        {{ annualised_vol('dollar_ret', 21) }} as dollar_vol_21d_ann,
        {{ annualised_vol('dollar_ret', 63) }} as dollar_vol_63d_ann,
        {{ rolling_corr('zl_log_return_1d', 'brl_ret', 30) }} as corr_zl_brl_30d,
        {{ rolling_corr('zl_log_return_1d', 'brl_ret', 60) }} as corr_zl_brl_60d,
        {{ rolling_corr('zl_log_return_1d', 'brl_ret', 90) }} as corr_zl_brl_90d,
        {{ rolling_corr('zl_log_return_1d', 'dollar_ret', 30) }} as corr_zl_dollar_30d,
        {{ rolling_corr('zl_log_return_1d', 'dollar_ret', 60) }} as corr_zl_dollar_60d,
        {{ rolling_corr('zl_log_return_1d', 'dollar_ret', 90) }} as corr_zl_dollar_90d,
        {{ log_change('cny_per_usd', 21) }} as usdcny_mom_21d,
        {{ log_change('cny_per_usd', 63) }} as usdcny_mom_63d,
        {{ log_change('mxn_per_usd', 21) }} as usdmxn_mom_21d,
        {{ log_change('mxn_per_usd', 63) }} as usdmxn_mom_63d,
        terms_of_trade_brl_cents_per_lb,
        {{ log_change('terms_of_trade_brl_cents_per_lb', 21) }} as terms_of_trade_chg_21d,

        -- Macro: levels and 21-day changes
        {%- for column in ['fed_funds_effective_pct', 'fed_funds_target_upper_pct', 'ust_3m_pct', 'ust_2y_pct',
                           'ust_10y_pct', 'curve_10y2y_pct', 'curve_10y3m_pct', 'nfci_index', 'stlfsi4_index',
                           'vix_index', 'unemployment_rate_pct', 'cpi_yoy_pct'] %}
            {{ column }},
            {{ change(column, 21) }} as {{ column }}_chg_21d,
        {%- endfor %}

        -- ZL price and volume
        zl_close as zl_close_cents_per_lb,
        zl_log_return_1d,
        zl_volume_contracts,
        zl_open_interest_contracts,

        -- Cross-asset
        0.022 * zm_close + 0.11 * zl_close - zs_close / 100 as board_crush_usd_per_bu,
        0.11 * zl_close / nullif(0.11 * zl_close + 0.022 * zm_close, 0) as oil_share,
        zl_close / 100 * 7.5 - ho_close as boho_spread_usd_per_gal,
        hg_close as hg_close_usd_per_lb,
        {{ rolling('sum', 'hg_log_return_1d', 21) }} as hg_mom_21d,
        dollar_index_level

    from returns

)

select * from features
