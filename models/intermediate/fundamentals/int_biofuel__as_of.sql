{#- RIN prices (EPA, weekly, released monthly) and EIA biofuel series per ZL trading day, as known at the end
    of the day: each carried forward from its release, never from its period date. -#}
with

calendar as (

    select * from {{ ref('int_calendar__zl_trading_days') }}

),

rins as (

    -- EPA publishes a month of weeks at once: keep the latest week of each release for the as-of join
    select * from {{ ref('stg_epa__rin_prices') }}
    qualify row_number() over (partition by rin_type, available_at order by week_ending_date desc) = 1

),

eia as (

    select
        *,
        {{ log_change('observation_value', 12, 'period_date', 'series_id') }} as yoy_log_change

    from {{ ref('stg_eia__observations') }}
    where frequency = 'monthly'
    qualify row_number() over (partition by series_id, available_at order by period_date desc) = 1

),

rin_codes as (

    select unnest(['D3', 'D4', 'D5', 'D6']) as rin_type

),

eia_series as (

    select unnest(['biodiesel_production', 'renewable_diesel_production', 'soybean_oil_feedstock_use']) as series_id

),

rin_grid as (

    select
        calendar.as_of_date,
        calendar.as_of_cutoff_at,
        codes.rin_type

    from calendar
    cross join rin_codes as codes

),

rin_known as (

    select
        rin_grid.as_of_date,
        rin_grid.rin_type,
        rins.price_usd_per_rin

    from rin_grid
    asof left join rins
        on
            rin_grid.rin_type = rins.rin_type
            and rin_grid.as_of_cutoff_at > rins.available_at

),

eia_grid as (

    select
        calendar.as_of_date,
        calendar.as_of_cutoff_at,
        series.series_id

    from calendar
    cross join eia_series as series

),

eia_known as (

    select
        eia_grid.as_of_date,
        eia_grid.series_id,
        eia.observation_value,
        eia.yoy_log_change

    from eia_grid
    asof left join eia
        on
            eia_grid.series_id = eia.series_id
            and eia_grid.as_of_cutoff_at > eia.available_at

),

rin_wide as (

    select
        as_of_date,
        {%- for code in ['D3', 'D4', 'D5', 'D6'] %}
            max(price_usd_per_rin) filter (where rin_type = '{{ code }}') as rin_{{ code | lower }}_usd
            {%- if not loop.last %},{% endif %}
        {%- endfor %}

    from rin_known
    group by as_of_date

),

eia_wide as (

    select
        as_of_date,
        {%- for series in ['biodiesel_production', 'renewable_diesel_production', 'soybean_oil_feedstock_use'] %}
            max(observation_value) filter (where series_id = '{{ series }}') as {{ series }},
            max(yoy_log_change) filter (where series_id = '{{ series }}') as {{ series }}_yoy
            {%- if not loop.last %},{% endif %}
        {%- endfor %}

    from eia_known
    group by as_of_date

),

final as (

    select
        calendar.as_of_date,
        rin_wide.* exclude (as_of_date),  -- noqa: RF02
        eia_wide.* exclude (as_of_date)  -- noqa: RF02

    from calendar
    left join rin_wide on calendar.as_of_date = rin_wide.as_of_date
    left join eia_wide on calendar.as_of_date = eia_wide.as_of_date

)

select * from final
