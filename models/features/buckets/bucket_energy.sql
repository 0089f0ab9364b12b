{#- Energy bucket: crude and products (soybean oil competes with diesel as a fuel and a feedstock), refining
    margins and natural gas. Crack spreads in consistent units: $/gal for the simple crack, $/bbl for 3-2-1. -#}
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
        core.boho_spread_usd_per_gal,
        futures.* exclude (as_of_date)  -- noqa: RF02

    from core
    left join futures on core.as_of_date = futures.as_of_date

),

momentum as (

    select
        *,
        {{ log_change('cl_close_adj', 21) }} as cl_mom_21d,
        {{ log_change('ho_close_adj', 21) }} as ho_mom_21d

    from joined

),

final as (

    select
        as_of_date,
        cl_close as cl_close_usd_per_bbl,
        ho_close as ho_close_usd_per_gal,
        rb_close as rb_close_usd_per_gal,
        ng_close as ng_close_usd_per_mmbtu,
        cl_mom_21d,
        ho_mom_21d,
        {{ log_change('rb_close_adj', 21) }} as rb_mom_21d,
        {{ log_change('ng_close_adj', 21) }} as ng_mom_21d,
        (rb_close + ho_close) / 2 - cl_close / 42 as crack_spread_usd_per_gal,
        (2 * rb_close * 42 + ho_close * 42 - 3 * cl_close) / 3 as crack_321_usd_per_bbl,
        {{ rolling_corr('cl_log_return_1d', 'zl_log_return_1d', 60) }} as corr_cl_zl_60d,
        {{ change('boho_spread_usd_per_gal', 21) }} as boho_chg_21d_usd_per_gal,
        {{ annualised_vol('cl_log_return_1d', 21) }} as cl_vol_21d_ann,
        {{ bucket_score(['cl_mom_21d', 'ho_mom_21d']) }} as energy_score

    from momentum

)

select * from final
