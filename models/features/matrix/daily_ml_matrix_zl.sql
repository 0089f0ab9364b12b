{#- The training matrix: one row per ZL trading day with every feature (core, the eight buckets with their
    scores, per-symbol technicals; all known at the end of as_of_date), a flag is_<source>_stale per source of
    `cbi_source_staleness_days` (its features are NULL that day; members that read them skip the forecast),
    the ZL close and the targets
    target_ret_<h>d = ln(close_adj[t + h] / close_adj[t]) for the horizons of `cbi_horizons`, in ZL trading days.
    A target is NULL until its horizon has passed. No feature is a function of a target: targets are joined
    from the price series, never from feature columns. -#}
{%- set marts = [] -%}
{%- for bucket in cbi_buckets() %}{% do marts.append('bucket_' ~ bucket) %}{% endfor -%}
{%- do marts.append('technicals') -%}
with

core as (

    select * from {{ ref('core_macro_fx') }}

),

{%- for mart in marts %}

    {{ mart }} as (

        select * from {{ ref(mart) }}

    ),
{%- endfor %}

zl_prices as (

    select
        as_of_date,
        zl_close_adj

    from {{ ref('int_futures__daily_aligned') }}

),

freshness as (

    select
        as_of_date,
        {%- for source in var('cbi_source_staleness_days') %}
            coalesce(bool_or(is_stale) filter (where source_name = '{{ source }}'), false)
                as {{ cbi_stale_flag_columns()[loop.index0] }}{% if not loop.last %},{% endif %}
        {%- endfor %}

    from {{ ref('int_calendar__source_freshness') }}
    group by as_of_date

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
        {%- for mart in marts %}
            {{ mart }}.* exclude (as_of_date),  -- noqa: RF02
        {%- endfor %}
        {%- for flag in cbi_stale_flag_columns() %}
            coalesce(freshness.{{ flag }}, false) as {{ flag }},
        {%- endfor %}
        {%- for label, days in var('cbi_horizons').items() %}
            targets.target_ret_{{ days }}d{% if not loop.last %},{% endif %}
        {%- endfor %}

    from core
    {%- for mart in marts %}
    inner join {{ mart }} on core.as_of_date = {{ mart }}.as_of_date
    {%- endfor %}
    inner join targets on core.as_of_date = targets.as_of_date
    left join freshness on core.as_of_date = freshness.as_of_date

)

select * from final
