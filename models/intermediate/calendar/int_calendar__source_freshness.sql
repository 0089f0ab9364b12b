{#- One row per ZL trading day and source of `cbi_source_staleness_days`: the source's latest release known by
    the end of the day (the greatest available_at of its rows before the cutoff) and whether it is stale then
    (quiet for longer than its tolerance). Point in time: a day's flag uses only releases before its cutoff.
    `is_stale_tail` marks stale days from which the source never released again in this warehouse (the source
    stopped): the null-rate gates count those as stale, not as a gap; a stale stretch the source came back from
    is a gap. -#}
{%- set tolerances = var('cbi_source_staleness_days') -%}
{%- set releases_of = {
    'fred': 'stg_fred__observations',
    'cftc': 'stg_cftc__cot_disaggregated',
    'usda': 'stg_usda__export_sales',
    'epa': 'stg_epa__rin_prices',
    'eia': 'stg_eia__observations',
} -%}
with

calendar as (

    select * from {{ ref('int_calendar__zl_trading_days') }}

),

releases as (

    {%- for source in tolerances %}

        select distinct
            '{{ source }}' as source_name,
            available_at as released_at
        from {{ ref(releases_of[source]) }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

),

tolerances as (

    select
        tolerance.source_name,
        tolerance.staleness_days

    from (
        values
        {%- for source, days in tolerances.items() %}
            ('{{ source }}', {{ days }}){% if not loop.last %},{% endif %}
        {%- endfor %}
    ) as tolerance (source_name, staleness_days)

),

grid as (

    select
        calendar.as_of_date,
        calendar.as_of_cutoff_at,
        tolerances.source_name,
        tolerances.staleness_days

    from calendar
    cross join tolerances

),

known as (

    select
        grid.as_of_date,
        grid.source_name,
        grid.staleness_days,
        releases.released_at as last_release_at,
        coalesce(grid.as_of_cutoff_at - releases.released_at > to_days(grid.staleness_days), false) as is_stale

    from grid
    asof left join releases
        on
            grid.source_name = releases.source_name
            and grid.as_of_cutoff_at > releases.released_at

),

latest_release as (

    select
        source_name,
        max(released_at) as latest_release_at

    from releases
    group by source_name

),

final as (

    select
        known.as_of_date,
        known.source_name,
        known.staleness_days,
        known.last_release_at,
        known.is_stale,
        known.is_stale and known.last_release_at = latest_release.latest_release_at as is_stale_tail,
        -- the first day of this stale stretch (the stretch shares its last release)
        case
            when known.is_stale
                then min(known.as_of_date) filter (where known.is_stale) over (
                        partition by known.source_name, known.last_release_at
                    )
        end as stale_since_date

    from known
    left join latest_release on known.source_name = latest_release.source_name

)

select * from final
