{#- Volatility bucket: market stress (VIX, STLFSI4) and ZL's own realised volatility regimes, and the day's ZL
    open/high/low/close in log units (the inputs of range-based variance estimators: Parkinson, Garman-Klass,
    Rogers-Satchell, Yang-Zhang), set only on days ZL traded (a carried-forward bar has no range of its own). -#}
with

core as (

    select * from {{ ref('core_macro_fx') }}

),

futures as (

    select * from {{ ref('int_futures__daily_aligned') }}

),

joined as (

    select
        core.as_of_date,
        core.vix_index,
        core.zl_log_return_1d,
        case
            when futures.zl_high_adj > 0 and futures.zl_low_adj > 0
                then pow(ln(futures.zl_high_adj / futures.zl_low_adj), 2)
        end as zl_log_range_sq,
        futures.zl_volume_contracts is not null
        and futures.zl_open_adj > 0
        and futures.zl_low_adj > 0
        and futures.zl_high_adj >= futures.zl_low_adj
        and futures.zl_close_adj > 0 as has_zl_ohlc,
        futures.zl_open_adj,
        futures.zl_high_adj,
        futures.zl_low_adj,
        futures.zl_close_adj,
        lag(futures.zl_close_adj) over (order by core.as_of_date) as zl_previous_close_adj

    from core
    left join futures on core.as_of_date = futures.as_of_date

),

vols as (

    select
        *,
        {{ annualised_vol('zl_log_return_1d', 21) }} as zl_vol_21d_ann,
        {{ annualised_vol('zl_log_return_1d', 63) }} as zl_vol_63d_ann,
        sqrt({{ rolling('avg', 'zl_log_range_sq', 21) }} / (4 * ln(2)) * 252) as zl_parkinson_vol_21d_ann

    from joined

),

final as (

    select
        as_of_date,
        {{ change('vix_index', 5) }} as vix_chg_5d,
        vix_index / nullif({{ rolling('avg', 'vix_index', 63) }}, 0) as vix_term_structure_proxy,
        {{ rolling_zscore('vix_index', 252) }} as vix_z_252d,
        zl_vol_21d_ann,
        zl_vol_63d_ann,
        zl_parkinson_vol_21d_ann,
        zl_vol_21d_ann / nullif(zl_vol_63d_ann, 0) as zl_vol_ratio_21d_63d,
        {{ rolling('stddev_samp', 'zl_vol_21d_ann', 63) }} as zl_vol_of_vol_63d,
        {{ rolling_percent_rank('zl_vol_21d_ann', 252) }} as zl_vol_pct_rank_252d,
        {{ bucket_score(['-zl_vol_21d_ann', '-vix_index']) }} as volatility_score,
        case when has_zl_ohlc then ln(zl_high_adj / zl_low_adj) end as zl_log_high_low_1d,
        case when has_zl_ohlc then ln(zl_high_adj / zl_open_adj) end as zl_log_high_open_1d,
        case when has_zl_ohlc then ln(zl_low_adj / zl_open_adj) end as zl_log_low_open_1d,
        case when has_zl_ohlc then ln(zl_close_adj / zl_open_adj) end as zl_log_close_open_1d,
        case
            when has_zl_ohlc and zl_previous_close_adj > 0 then ln(zl_open_adj / zl_previous_close_adj)
        end as zl_log_open_gap_1d

    from vols

)

select * from final
