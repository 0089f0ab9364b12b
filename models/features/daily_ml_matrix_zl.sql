{#- The training matrix: one row per ZL trading day with every feature (known at the end of as_of_date),
    the ZL close and the targets target_ret_<h>d = ln(close_adj[t + h] / close_adj[t]) for the horizons of
    `cbi_horizons`, in ZL trading days. A target is NULL until its horizon has passed. No feature is a
    function of a target: targets are joined from the price series, never from feature columns. -#}
with

core as (

    select * from {{ ref('core_macro_fx') }}

),

zl_prices as (

    select
        as_of_date,
        zl_close_adj

    from {{ ref('int_futures__daily_aligned') }}

),

targets as (

    select
        as_of_date,
        {%- for label, days in var('cbi_horizons').items() %}
            case
                when zl_close_adj > 0 and lead(zl_close_adj, {{ days }}) over (order by as_of_date) > 0
                    then ln(lead(zl_close_adj, {{ days }}) over (order by as_of_date) / zl_close_adj)
            end as target_ret_{{ days }}d{% if not loop.last %},{% endif %}
        {%- endfor %}

    from zl_prices

),

final as (

    select
        core.*,
        {%- for label, days in var('cbi_horizons').items() %}
            targets.target_ret_{{ days }}d{% if not loop.last %},{% endif %}
        {%- endfor %}

    from core
    inner join targets on core.as_of_date = targets.as_of_date

)

select * from final
