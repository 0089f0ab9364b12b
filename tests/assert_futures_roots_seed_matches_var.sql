{#- The seed `futures_roots` and the var `cbi_futures_roots` must name the same roots with the same column
    prefixes (the var drives the SQL pivots at compile time, the seed documents units and contract sizes). -#}
with

from_var as (

    select
        var_roots.root,
        var_roots.column_prefix
    from (
        values
        {%- for root, prefix in var('cbi_futures_roots').items() %}
            ('{{ root }}', '{{ prefix }}'){% if not loop.last %},{% endif %}
        {%- endfor %}
    ) as var_roots (root, column_prefix)

),

from_seed as (

    select
        root,
        column_prefix
    from {{ ref('futures_roots') }}

),

mismatches as (

    (
        select * from from_var
        except
        select * from from_seed
    )
    union all
    (
        select * from from_seed
        except
        select * from from_var
    )

)

select * from mismatches
