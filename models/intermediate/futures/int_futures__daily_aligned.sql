{#- One row per ZL trading day with the front-contract prices of every root in `cbi_futures_roots` as known at
    the end of that day, pivoted from `int_futures__aligned_long` (column prefixes from the var). -#}
{%- set roots = var('cbi_futures_roots') -%}
with

aligned as (

    select * from {{ ref('int_futures__aligned_long') }}

),

pivoted as (

    select
        as_of_date,
        {%- for root, prefix in roots.items() %}
            max(close_price) filter (where root = '{{ root }}') as {{ prefix }}_close,
            max(close_adj) filter (where root = '{{ root }}') as {{ prefix }}_close_adj,
            max(open_adj) filter (where root = '{{ root }}') as {{ prefix }}_open_adj,
            max(high_adj) filter (where root = '{{ root }}') as {{ prefix }}_high_adj,
            max(low_adj) filter (where root = '{{ root }}') as {{ prefix }}_low_adj,
            max(volume_contracts) filter (where root = '{{ root }}') as {{ prefix }}_volume_contracts,
            max(open_interest_contracts) filter (where root = '{{ root }}') as {{ prefix }}_open_interest_contracts,
            max(log_return_1d) filter (where root = '{{ root }}') as {{ prefix }}_log_return_1d
            {%- if not loop.last %},{% endif %}
        {%- endfor %}

    from aligned
    group by as_of_date

)

select * from pivoted
