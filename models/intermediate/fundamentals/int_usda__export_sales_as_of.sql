{#- USDA soybean export sales per ZL trading day, as known at the end of the day (the latest weekly report
    released before the cutoff): weekly and 4-week figures for all destinations and for China.
    Point in time for revisions: the weeks are rebuilt at every moment a release or a revision became known
    (`known_from_at`), each in the version known then, and the 4-week windows are computed over that state.
    Every value is NULL while USDA is stale (`int_calendar__source_freshness`). -#}
{%- set lookback_days = 365 -%}  {#- a year of weeks: the windows need the last 8 #}
{%- set figures = ['destination', 'net_sales_mt', 'exports_mt', 'outstanding_sales_mt'] -%}
with

calendar as (

    select * from {{ ref('int_calendar__zl_trading_days') }}

),

versions as (

    select * from {{ ref('stg_usda__export_sales_versions') }}
    where commodity = 'soybeans'

),

rows_known as (

    -- every row of the look-back as it stood at each moment: the version in force then
    {{ versions_known_at_moments('versions', 'week_ending_date', figures, lookback_days) }}

),

weekly as (

    select
        known_at,
        week_ending_date,
        max(net_sales_mt) filter (where destination = 'ALL') as net_sales_mt,
        max(exports_mt) filter (where destination = 'ALL') as exports_mt,
        max(outstanding_sales_mt) filter (where destination = 'ALL') as outstanding_sales_mt,
        max(net_sales_mt) filter (where destination = 'CHINA') as china_net_sales_mt,
        max(exports_mt) filter (where destination = 'CHINA') as china_exports_mt,
        max(outstanding_sales_mt) filter (where destination = 'CHINA') as china_outstanding_sales_mt

    from rows_known
    group by known_at, week_ending_date

),

four_weeks as (

    select
        *,
        sum(net_sales_mt) over w4 as net_sales_4w_mt,
        sum(china_net_sales_mt) over w4 as china_net_sales_4w_mt,
        sum(exports_mt) over w4 as exports_4w_mt,
        sum(net_sales_mt) over w4_prior as net_sales_prior_4w_mt,
        sum(china_net_sales_mt) over w4_prior as china_net_sales_prior_4w_mt

    from weekly
    window
        w4 as (partition by known_at order by week_ending_date rows between 3 preceding and current row),
        w4_prior as (partition by known_at order by week_ending_date rows between 7 preceding and 4 preceding)

),

latest_per_moment as (

    -- one row per moment (its latest week), so the as-of join cannot pick among weeks
    select *
    from four_weeks
    qualify row_number() over (partition by known_at order by week_ending_date desc) = 1

),

known as (

    select
        calendar.as_of_date,
        four_weeks.week_ending_date,
        four_weeks.net_sales_mt,
        four_weeks.exports_mt,
        four_weeks.outstanding_sales_mt,
        four_weeks.china_net_sales_mt,
        four_weeks.china_outstanding_sales_mt,
        four_weeks.net_sales_4w_mt,
        four_weeks.china_net_sales_4w_mt,
        four_weeks.exports_4w_mt,
        four_weeks.net_sales_4w_mt - four_weeks.net_sales_prior_4w_mt as net_sales_mom_4w_mt,
        four_weeks.china_net_sales_4w_mt - four_weeks.china_net_sales_prior_4w_mt as china_net_sales_mom_4w_mt,
        four_weeks.china_net_sales_4w_mt / nullif(four_weeks.net_sales_4w_mt, 0) as china_share_net_sales_4w

    from calendar
    asof left join latest_per_moment as four_weeks
        on calendar.as_of_cutoff_at > four_weeks.known_at

),

usda_freshness as (

    {{ stale_flag_cte('usda') }}

),

final as (

    select
        known.as_of_date,
        {{ unless_stale('known.week_ending_date', 'usda_freshness.is_stale') }} as week_ending_date,
        {{ unless_stale('known.net_sales_mt', 'usda_freshness.is_stale') }} as net_sales_mt,
        {{ unless_stale('known.exports_mt', 'usda_freshness.is_stale') }} as exports_mt,
        {{ unless_stale('known.outstanding_sales_mt', 'usda_freshness.is_stale') }} as outstanding_sales_mt,
        {{ unless_stale('known.china_net_sales_mt', 'usda_freshness.is_stale') }} as china_net_sales_mt,
        {{ unless_stale('known.china_outstanding_sales_mt', 'usda_freshness.is_stale') }} as china_outstanding_sales_mt,
        {{ unless_stale('known.net_sales_4w_mt', 'usda_freshness.is_stale') }} as net_sales_4w_mt,
        {{ unless_stale('known.china_net_sales_4w_mt', 'usda_freshness.is_stale') }} as china_net_sales_4w_mt,
        {{ unless_stale('known.exports_4w_mt', 'usda_freshness.is_stale') }} as exports_4w_mt,
        {{ unless_stale('known.net_sales_mom_4w_mt', 'usda_freshness.is_stale') }} as net_sales_mom_4w_mt,
        {{ unless_stale('known.china_net_sales_mom_4w_mt', 'usda_freshness.is_stale') }} as china_net_sales_mom_4w_mt,
        {{ unless_stale('known.china_share_net_sales_4w', 'usda_freshness.is_stale') }} as china_share_net_sales_4w

    from known
    left join usda_freshness on known.as_of_date = usda_freshness.as_of_date

)

select * from final
