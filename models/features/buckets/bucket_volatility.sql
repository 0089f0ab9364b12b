{#- Volatility bucket: market stress (VIX, STLFSI4) and ZL's own realised volatility regimes. -#}
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
        end as zl_log_range_sq

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
        {{ bucket_score(['-zl_vol_21d_ann', '-vix_index']) }} as volatility_score

    from vols

)

select * from final
