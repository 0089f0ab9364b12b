{#- CFTC futures-only positioning per ZL trading day and root (ZL, ZS, ZM), as known at the end of the day:
    the latest report released (Friday 15:30 ET) before the cutoff, carried forward until the next one.
    Net positions are expressed as a share of open interest; changes are over 4 reports. -#}
with

calendar as (

    select * from {{ ref('int_calendar__zl_trading_days') }}

),

reports as (

    select
        root,
        report_date,
        available_at,
        (managed_money_long_contracts - managed_money_short_contracts)
        / nullif(open_interest_contracts, 0) as managed_money_net_pct_oi,
        (prod_merc_long_contracts - prod_merc_short_contracts)
        / nullif(open_interest_contracts, 0) as prod_merc_net_pct_oi

    from {{ ref('stg_cftc__cot_disaggregated') }}
    where report_type = 'futures_only'

),

report_changes as (

    select
        *,
        {{ change('managed_money_net_pct_oi', 4, 'report_date', 'root') }} as managed_money_net_chg_4w,
        {{ change('prod_merc_net_pct_oi', 4, 'report_date', 'root') }} as prod_merc_net_chg_4w,
        {{ rolling_zscore('managed_money_net_pct_oi', 52, 'report_date', 'root') }} as managed_money_net_z_52w

    from reports

),

latest_per_release as (

    select *
    from report_changes
    qualify row_number() over (partition by root, available_at order by report_date desc) = 1

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

final as (

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
    asof left join latest_per_release as report_changes
        on
            grid.root = report_changes.root
            and grid.as_of_cutoff_at > report_changes.available_at

)

select * from final
