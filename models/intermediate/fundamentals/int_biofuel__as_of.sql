{#- RIN prices (EPA, weekly, released monthly) and EIA biofuel series per ZL trading day, as known at the end
    of the day: each carried forward from its release, never from its period date.
    Point in time for revisions: each series is rebuilt at every moment a release or a revision of it became
    known (`known_from_at`), each period in the version known then; the latest period of that state (and, for
    EIA, its year-on-year change within the same state) is what the day sees. RIN prices are NULL while EPA is
    stale, the EIA series while EIA is (`int_calendar__source_freshness`). -#}
{%- set lookback_days = 730 -%}  {#- two years of periods: the year-on-year change needs 13 months #}
with

calendar as (

    select * from {{ ref('int_calendar__zl_trading_days') }}

),

rin_versions as (

    select * from {{ ref('stg_epa__rin_prices_versions') }}

),

eia_versions as (

    select * from {{ ref('stg_eia__observations_versions') }}
    where frequency = 'monthly'

),

rin_state as (

    {{ versions_known_at_moments(
        'rin_versions', 'week_ending_date', ['price_usd_per_rin'], lookback_days, ['rin_type']
    ) }}

),

rins as (

    -- per moment, the latest week known then in the version in force then
    select *
    from rin_state
    qualify row_number() over (partition by rin_type, known_at order by week_ending_date desc) = 1

),

eia_state as (

    {{ versions_known_at_moments('eia_versions', 'period_date', ['observation_value'], lookback_days, ['series_id']) }}

),

eia as (

    -- per moment, the latest month known then and its year-on-year change, both from that state
    select
        *,
        {{ log_change('observation_value', 12, 'period_date', 'series_id, known_at') }} as yoy_log_change

    from eia_state
    qualify row_number() over (partition by series_id, known_at order by period_date desc) = 1

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
            and rin_grid.as_of_cutoff_at > rins.known_at

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
            and eia_grid.as_of_cutoff_at > eia.known_at

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

epa_freshness as (

    {{ stale_flag_cte('epa') }}

),

eia_freshness as (

    {{ stale_flag_cte('eia') }}

),

final as (

    select
        calendar.as_of_date,
        {%- for code in ['D3', 'D4', 'D5', 'D6'] %}
            {{ unless_stale('rin_wide.rin_' ~ code | lower ~ '_usd', 'epa_freshness.is_stale') }}
                as rin_{{ code | lower }}_usd,
        {%- endfor %}
        {%- for series in ['biodiesel_production', 'renewable_diesel_production', 'soybean_oil_feedstock_use'] %}
            {{ unless_stale('eia_wide.' ~ series, 'eia_freshness.is_stale') }} as {{ series }},
            {{ unless_stale('eia_wide.' ~ series ~ '_yoy', 'eia_freshness.is_stale') }} as {{ series }}_yoy
            {%- if not loop.last %},{% endif %}
        {%- endfor %}

    from calendar
    left join rin_wide on calendar.as_of_date = rin_wide.as_of_date
    left join eia_wide on calendar.as_of_date = eia_wide.as_of_date
    left join epa_freshness on calendar.as_of_date = epa_freshness.as_of_date
    left join eia_freshness on calendar.as_of_date = eia_freshness.as_of_date

)

select * from final
