{#- One row per ZL trading day and root of `cbi_futures_roots`: the last front bar known by the end of the day
    (as-of join on available_at; a bar older than 10 calendar days counts as missing), and the root's log
    return since the previous ZL trading day. The long form feeds technicals; `int_futures__daily_aligned`
    pivots it to one row per day. -#}
{%- set roots = var('cbi_futures_roots') -%}
with

calendar as (

    select * from {{ ref('int_calendar__zl_trading_days') }}

),

continuous as (

    select * from {{ ref('int_futures__continuous') }}

),

latest_bar_per_release as (

    -- the as-of join below must see one bar per root and release moment (the latest trade date), or two bars
    -- released at the same time would be picked between arbitrarily
    select *
    from continuous
    qualify row_number() over (partition by root, available_at order by trade_date desc) = 1

),

roots as (

    select root_list.root
    from (
        values
        {%- for root in roots %}
            ('{{ root }}'){% if not loop.last %},{% endif %}
        {%- endfor %}
    ) as root_list (root)

),

grid as (

    select
        calendar.as_of_date,
        calendar.as_of_cutoff_at,
        roots.root

    from calendar
    cross join roots

),

known_bars as (

    select
        grid.as_of_date,
        grid.root,
        continuous.trade_date,
        continuous.close_price,
        continuous.close_adj,
        continuous.open_adj,
        continuous.high_adj,
        continuous.low_adj,
        continuous.total_volume_contracts,
        continuous.total_open_interest_contracts

    from grid
    asof left join latest_bar_per_release as continuous
        on
            grid.root = continuous.root
            and grid.as_of_cutoff_at > continuous.available_at

),

final as (

    select
        as_of_date,
        root,
        case when trade_date >= as_of_date - interval 10 day then trade_date end as bar_trade_date,
        case when trade_date >= as_of_date - interval 10 day then close_price end as close_price,
        case when trade_date >= as_of_date - interval 10 day then close_adj end as close_adj,
        case when trade_date >= as_of_date - interval 10 day then open_adj end as open_adj,
        case when trade_date >= as_of_date - interval 10 day then high_adj end as high_adj,
        case when trade_date >= as_of_date - interval 10 day then low_adj end as low_adj,
        case when trade_date = as_of_date then total_volume_contracts end as volume_contracts,
        case
            when trade_date >= as_of_date - interval 10 day then total_open_interest_contracts
        end as open_interest_contracts

    from known_bars

),

with_returns as (

    select
        *,
        {{ log_change('close_adj', 1, partition_by='root') }} as log_return_1d

    from final

)

select * from with_returns
