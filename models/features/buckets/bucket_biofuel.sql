{#- Biofuel bucket: the policy-driven demand for soybean oil as a feedstock: RIN prices (EPA), biodiesel and
    renewable diesel output and soybean-oil feedstock use (EIA), and the BOHO spread. -#}
with

core as (

    select * from {{ ref('core_macro_fx') }}

),

biofuel as (

    select * from {{ ref('int_biofuel__as_of') }}

),

joined as (

    select
        core.as_of_date,
        core.boho_spread_usd_per_gal,
        biofuel.* exclude (as_of_date)  -- noqa: RF02

    from core
    left join biofuel on core.as_of_date = biofuel.as_of_date

),

final as (

    select
        as_of_date,
        rin_d3_usd,
        rin_d4_usd,
        rin_d5_usd,
        rin_d6_usd,
        rin_d4_usd - rin_d6_usd as rin_d4_d6_spread_usd,
        {{ log_change('rin_d4_usd', 20) }} as rin_d4_mom_4w,
        {{ log_change('rin_d6_usd', 20) }} as rin_d6_mom_4w,
        {{ rolling_zscore('rin_d4_usd', 252) }} as rin_d4_z_252d,
        {{ rolling_zscore('rin_d6_usd', 252) }} as rin_d6_z_252d,
        biodiesel_production as biodiesel_production_mmgal,
        biodiesel_production_yoy,
        renewable_diesel_production as renewable_diesel_production_mmgal,
        renewable_diesel_production_yoy,
        soybean_oil_feedstock_use as soybean_oil_feedstock_use_mmlb,
        soybean_oil_feedstock_use_yoy,
        {{ rolling_zscore('boho_spread_usd_per_gal', 252) }} as boho_z_252d,
        {{ bucket_score(['rin_d4_usd', 'boho_spread_usd_per_gal']) }} as biofuel_score

    from joined

)

select * from final
