{#- Crush bucket: processor margins and positioning in the soy complex. -#}
with

core as (

    select * from {{ ref('core_macro_fx') }}

),

futures as (

    select * from {{ ref('int_futures__daily_aligned') }}

),

positions as (

    select * from {{ ref('int_cftc__positions_as_of') }}

),

joined as (

    select
        core.as_of_date,
        core.board_crush_usd_per_bu,
        core.oil_share,
        futures.zl_close,
        futures.zs_close,
        zl.managed_money_net_pct_oi as zl_mm_net_pct_oi,
        zl.prod_merc_net_pct_oi as zl_pm_net_pct_oi,
        zl.managed_money_net_chg_4w as zl_mm_net_chg_4w,
        zl.prod_merc_net_chg_4w as zl_pm_net_chg_4w,
        zl.managed_money_net_z_52w as zl_mm_net_z_52w,
        zs.managed_money_net_pct_oi as zs_mm_net_pct_oi,
        zs.prod_merc_net_pct_oi as zs_pm_net_pct_oi

    from core
    left join futures on core.as_of_date = futures.as_of_date
    left join positions as zl on core.as_of_date = zl.as_of_date and zl.root = 'ZL'
    left join positions as zs on core.as_of_date = zs.as_of_date and zs.root = 'ZS'

),

final as (

    select
        as_of_date,
        {{ rolling('avg', 'board_crush_usd_per_bu', 21) }} as crush_margin_mean_21d_usd_per_bu,
        {{ rolling('stddev_samp', 'board_crush_usd_per_bu', 21) }} as crush_margin_sd_21d_usd_per_bu,
        {{ rolling_percent_rank('board_crush_usd_per_bu', 252) }} as crush_margin_pct_rank_252d,
        {{ rolling_zscore('board_crush_usd_per_bu', 252) }} as crush_margin_z_252d,
        {{ change('board_crush_usd_per_bu', 21) }} as crush_margin_chg_21d_usd_per_bu,
        {{ rolling_zscore('oil_share', 252) }} as oil_share_z_252d,
        {{ change('oil_share', 21) }} as oil_share_chg_21d,
        0.11 * zl_close / nullif(zs_close / 100, 0) as oil_value_to_soybean_ratio,
        zl_mm_net_pct_oi,
        zl_pm_net_pct_oi,
        zs_mm_net_pct_oi,
        zs_pm_net_pct_oi,
        zl_mm_net_chg_4w,
        zl_mm_net_z_52w,
        case when zl_mm_net_z_52w > 2 then 1 when zl_mm_net_z_52w < -2 then -1 else 0 end as zl_mm_extreme_positioning,
        zl_pm_net_chg_4w - zl_mm_net_chg_4w as zl_smart_money_signal_4w,
        {{ bucket_score(['oil_share', 'zl_mm_net_pct_oi']) }} as crush_score

    from joined

)

select * from final
