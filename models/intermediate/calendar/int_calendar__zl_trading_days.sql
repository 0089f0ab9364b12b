{#- The daily calendar of every feature and target: the trade dates on which ZL has a front bar.
    `as_of_cutoff_at` is the end of the as-of date (UTC): a feature row may use only rows with
    available_at < as_of_cutoff_at. -#}
with

zl as (

    select trade_date from {{ ref('int_futures__continuous') }}
    where root = 'ZL'

),

final as (

    select
        trade_date as as_of_date,
        row_number() over (order by trade_date) as trading_day_index,
        trade_date + interval 1 day as as_of_cutoff_at

    from zl

)

select * from final
