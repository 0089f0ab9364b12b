{#- One row per ZL trading day with the value of every FRED series in `cbi_fred_series` as it was known at
    the end of that day (point in time, vintage-aware):
      1. the latest observation period whose first release came before the cutoff, then
      2. the latest vintage of that period released before the cutoff.
    Weekly and monthly series are therefore carried forward from their release, not their period date.
    Every value is NULL while FRED is stale (`int_calendar__source_freshness`).
    CPIAUCSL_YOY (CPI year on year, percent) is derived per vintage and released with its month. -#}
{%- set series = var('cbi_fred_series') -%}
with

calendar as (

    select * from {{ ref('int_calendar__zl_trading_days') }}

),

observations as (

    select * from {{ ref('stg_fred__observations') }}
    where not is_missing

),

cpi_year_on_year as (

    -- each vintage of a month against the latest vintage of the month a year before known by then (one row
    -- per vintage: with several year-ago vintages the as-of join below would otherwise pick among them)
    select
        'CPIAUCSL_YOY' as series_id,
        current_month.observation_date,
        100 * (current_month.observation_value / year_ago.observation_value - 1) as observation_value,
        greatest(current_month.available_at, year_ago.available_at) as available_at,
        current_month.realtime_start_date

    from observations as current_month
    inner join observations as year_ago
        on
            current_month.series_id = year_ago.series_id
            and year_ago.observation_date = current_month.observation_date - interval 12 month
            and current_month.available_at >= year_ago.available_at
    where current_month.series_id = 'CPIAUCSL' and year_ago.observation_value > 0
    qualify row_number() over (
            partition by current_month.observation_date, current_month.realtime_start_date
            order by year_ago.available_at desc, year_ago.realtime_start_date desc
        ) = 1

),

all_vintages as (

    select
        series_id,
        observation_date,
        observation_value,
        available_at,
        realtime_start_date
    from observations
    union all
    select
        series_id,
        observation_date,
        observation_value,
        available_at,
        realtime_start_date
    from cpi_year_on_year

),

vintages as (

    -- one vintage per period and release moment (the latest realtime start), so the as-of join is unambiguous
    select
        series_id,
        observation_date,
        observation_value,
        available_at

    from all_vintages
    qualify row_number() over (
            partition by series_id, observation_date, available_at order by realtime_start_date desc
        ) = 1

),

first_releases as (

    select
        series_id,
        observation_date,
        min(available_at) as first_available_at

    from vintages
    group by series_id, observation_date

),

latest_period_per_release as (

    -- several periods can be released at once (DFF's weekend days arrive on Monday): the as-of join must
    -- see one row per release moment, the latest period, or it would pick among them arbitrarily
    select *
    from first_releases
    qualify row_number() over (
            partition by series_id, first_available_at order by observation_date desc
        ) = 1

),

series_list as (

    select fred_series.series_id
    from (
        values
        {%- for series_id in series %}
            ('{{ series_id }}'){% if not loop.last %},{% endif %}
        {%- endfor %}
    ) as fred_series (series_id)

),

grid as (

    select
        calendar.as_of_date,
        calendar.as_of_cutoff_at,
        series_list.series_id

    from calendar
    cross join series_list

),

latest_period as (

    select
        grid.as_of_date,
        grid.as_of_cutoff_at,
        grid.series_id,
        first_releases.observation_date

    from grid
    asof inner join latest_period_per_release as first_releases
        on
            grid.series_id = first_releases.series_id
            and grid.as_of_cutoff_at > first_releases.first_available_at

),

latest_value as (

    select
        latest_period.as_of_date,
        latest_period.series_id,
        vintages.observation_value

    from latest_period
    asof inner join vintages
        on
            latest_period.series_id = vintages.series_id
            and latest_period.observation_date = vintages.observation_date
            and latest_period.as_of_cutoff_at > vintages.available_at

),

fred_freshness as (

    {{ stale_flag_cte('fred') }}

),

final as (

    select
        calendar.as_of_date,
        {%- for series_id, column in series.items() %}
            {{ unless_stale(
                "max(latest_value.observation_value) filter (where latest_value.series_id = '" ~ series_id ~ "')",
                'fred_freshness.is_stale'
            ) }} as {{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}

    from calendar
    left join latest_value on calendar.as_of_date = latest_value.as_of_date
    left join fred_freshness on calendar.as_of_date = fred_freshness.as_of_date
    group by calendar.as_of_date, fred_freshness.is_stale

)

select * from final
