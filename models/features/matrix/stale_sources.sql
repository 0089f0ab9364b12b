{#- The alert record: one row per source that is stale on the latest ZL trading day, with its last release and
    the first day it counted as stale. Empty when every source is fresh. The `data_quality` job reads it (and
    posts a `source_stale` alert per source); `dbt build` warns through the test `warn_stale_sources`. -#}
with

freshness as (

    select * from {{ ref('int_calendar__source_freshness') }}

),

latest as (

    select max(as_of_date) as as_of_date
    from freshness

),

final as (

    select
        freshness.source_name,
        freshness.as_of_date,
        freshness.last_release_at,
        freshness.stale_since_date,
        freshness.staleness_days,
        date_diff('day', freshness.last_release_at::date, freshness.as_of_date) as days_since_release

    from freshness
    inner join latest on freshness.as_of_date = latest.as_of_date
    where freshness.is_stale

)

select * from final
