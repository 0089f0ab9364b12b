{#- FX bucket: the dollar and the currencies of ZL's competitors and buyers (BRL, EUR, CNY, MXN). -#}
with

core as (

    select * from {{ ref('core_macro_fx') }}

),

futures as (

    select * from {{ ref('int_futures__daily_aligned') }}

),

joined as (

    select
        core.*,
        futures.eur_close_adj,
        futures.eur_log_return_1d,
        futures.zl_log_return_1d as zl_ret,
        futures.brl_close_adj

    from core
    left join futures on core.as_of_date = futures.as_of_date

),

final as (

    select
        as_of_date,
        {{ log_change('eur_close_adj', 21) }} as eur_mom_21d,
        {{ log_change('eur_close_adj', 63) }} as eur_mom_63d,
        {{ rolling_zscore('dollar_index_level', 252) }} as dollar_z_252d,
        {{ rolling_zscore('brl_usd_per_brl', 252) }} as brl_z_252d,
        {{ rolling_corr('zl_ret', 'eur_log_return_1d', 60) }} as corr_zl_eur_60d,
        (
            corr_zl_brl_60d
            + {{ rolling_corr('zl_ret', 'eur_log_return_1d', 60) }}
            - corr_zl_dollar_60d
        ) / 3 as fx_multi_pair_corr_60d,
        usdcny_mom_21d - usdmxn_mom_21d as cny_vs_mxn_mom_21d,
        {{ log_change('brl_close_adj', 5) }} as brl_mom_5d,
        {{ rolling_percent_rank('dollar_index_level', 252) }} as dollar_pct_rank_252d,
        {{ bucket_score(['-dollar_mom_63d', 'brl_mom_63d']) }} as fx_score

    from joined

)

select * from final
