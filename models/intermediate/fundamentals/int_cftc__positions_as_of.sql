{#- CFTC futures-only positioning per ZL trading day and root (ZL, ZS, ZM), as known at the end of the day:
    the latest report released (Friday 15:30 ET) before the cutoff, carried forward until the next one.
    Net positions are expressed as a share of open interest; changes are over 4 reports.
    Point in time for revisions: the reports are rebuilt at every moment something about a root became known
    (a release or a revision, `known_from_at`), each report in the version known then, and the windows are
    computed over that state; a revision loaded after a day's cutoff cannot change the day's row.
    Every value is NULL while the CFTC is stale (`int_calendar__source_freshness`). -#}
{%- set lookback_days = 730 -%}  {#- two years of reports: the 52-report z-score needs 52 of them #}
{%- set positions = ['managed_money_net_pct_oi', 'prod_merc_net_pct_oi'] -%}
with

calendar as (

    select * from {{ ref('int_calendar__zl_trading_days') }}

),

versions as (

    select
        root,
        report_date,
        known_from_at,
        known_until_at,
        (managed_money_long_contracts - managed_money_short_contracts)
        / nullif(open_interest_contracts, 0) as managed_money_net_pct_oi,
        (prod_merc_long_contracts - prod_merc_short_contracts)
        / nullif(open_interest_contracts, 0) as prod_merc_net_pct_oi

    from {{ ref('stg_cftc__cot_disaggregated_versions') }}
    where report_type = 'futures_only'

),

reports_known as (

    -- every report of the look-back as it stood at each moment: the version in force then
    {{ versions_known_at_moments('versions', 'report_date', positions, lookback_days, ['root']) }}

),

report_changes as (

    select
        *,
        {{ change('managed_money_net_pct_oi', 4, 'report_date', 'root, known_at') }} as managed_money_net_chg_4w,
        {{ change('prod_merc_net_pct_oi', 4, 'report_date', 'root, known_at') }} as prod_merc_net_chg_4w,
        {{ rolling_zscore('managed_money_net_pct_oi', 52, 'report_date', 'root, known_at') }}
            as managed_money_net_z_52w

    from reports_known

),

latest_per_moment as (

    -- one row per moment, its latest report, so the as-of join cannot pick among reports
    select *
    from report_changes
    qualify row_number() over (partition by root, known_at order by report_date desc) = 1

),

roots as (

    select unnest(['ZL', 'ZS', 'ZM']) as root

),

grid as (

    select
        calendar.as_of_date,
        calendar.as_of_cutoff_at,
        roots.root

    from calendar
    cross join roots

),

known as (

    select
        grid.as_of_date,
        grid.root,
        report_changes.report_date,
        report_changes.managed_money_net_pct_oi,
        report_changes.prod_merc_net_pct_oi,
        report_changes.managed_money_net_chg_4w,
        report_changes.prod_merc_net_chg_4w,
        report_changes.managed_money_net_z_52w

    from grid
    asof left join latest_per_moment as report_changes
        on
            grid.root = report_changes.root
            and grid.as_of_cutoff_at > report_changes.known_at

),

cftc_freshness as (

    {{ stale_flag_cte('cftc') }}

),

final as (

    select
        known.as_of_date,
        known.root,
        {{ unless_stale('known.report_date', 'cftc_freshness.is_stale') }} as report_date,
        {{ unless_stale('known.managed_money_net_pct_oi', 'cftc_freshness.is_stale') }} as managed_money_net_pct_oi,
        {{ unless_stale('known.prod_merc_net_pct_oi', 'cftc_freshness.is_stale') }} as prod_merc_net_pct_oi,
        {{ unless_stale('known.managed_money_net_chg_4w', 'cftc_freshness.is_stale') }} as managed_money_net_chg_4w,
        {{ unless_stale('known.prod_merc_net_chg_4w', 'cftc_freshness.is_stale') }} as prod_merc_net_chg_4w,
        {{ unless_stale('known.managed_money_net_z_52w', 'cftc_freshness.is_stale') }} as managed_money_net_z_52w

    from known
    left join cftc_freshness on known.as_of_date = cftc_freshness.as_of_date

)

select * from final
