{#- One row per ZL trading day with the front-contract prices of every root in `cbi_futures_roots`, as
    known at the end of that day: an as-of join on available_at, so a root that did not trade (or whose bar
    is not yet published) carries its last known bar, for at most 10 calendar days. -#}
{%- set roots = var('cbi_futures_roots') -%}
with

calendar as (

    select * from {{ ref('int_calendar__zl_trading_days') }}

),

continuous as (

    select * from {{ ref('int_futures__continuous') }}

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
        continuous.close_price,
        continuous.close_adj,
        continuous.high_adj,
        continuous.low_adj,
        continuous.total_volume_contracts,
        continuous.total_open_interest_contracts

    from grid
    asof left join continuous
        on
            grid.root = continuous.root
            and grid.as_of_cutoff_at > continuous.available_at
    where continuous.trade_date >= grid.as_of_date - interval 10 day

),

pivoted as (

    select
        calendar.as_of_date,
        {%- for root, prefix in roots.items() %}
            max(known_bars.close_price) filter (where known_bars.root = '{{ root }}') as {{ prefix }}_close,
            max(known_bars.close_adj) filter (where known_bars.root = '{{ root }}') as {{ prefix }}_close_adj,
            max(known_bars.high_adj) filter (where known_bars.root = '{{ root }}') as {{ prefix }}_high_adj,
            max(known_bars.low_adj) filter (where known_bars.root = '{{ root }}') as {{ prefix }}_low_adj,
            max(known_bars.total_volume_contracts) filter (where known_bars.root = '{{ root }}')
                as {{ prefix }}_volume_contracts,
            max(known_bars.total_open_interest_contracts) filter (where known_bars.root = '{{ root }}')
                as {{ prefix }}_open_interest_contracts{% if not loop.last %},{% endif %}
        {%- endfor %}

    from calendar
    left join known_bars on calendar.as_of_date = known_bars.as_of_date
    group by calendar.as_of_date

),

final as (

    select
        *,
        {%- for prefix in roots.values() %}
            case
                when {{ prefix }}_close_adj > 0 and lag({{ prefix }}_close_adj) over (order by as_of_date) > 0
                    then ln({{ prefix }}_close_adj / lag({{ prefix }}_close_adj) over (order by as_of_date))
            end as {{ prefix }}_log_return_1d{% if not loop.last %},{% endif %}
        {%- endfor %}

    from pivoted

)

select * from final
