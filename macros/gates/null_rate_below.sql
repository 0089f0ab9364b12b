{#- Fails when the share of NULLs in `column_name` exceeds `max_rate`, counting only rows after the first
    `warmup_rows` rows ordered by `order_by` (rolling windows are NULL by design while they fill). -#}
{% test null_rate_below(model, column_name, max_rate, warmup_rows=0, order_by='as_of_date') %}

with ordered as (
    select
        {{ column_name }} as tested_value,
        row_number() over (order by {{ order_by }}) as row_index
    from {{ model }}
),

rates as (
    select
        count(*) as n_rows,
        avg(case when tested_value is null then 1.0 else 0.0 end) as null_rate
    from ordered
    where row_index > {{ warmup_rows }}
)

select '{{ column_name }}' as column_name, n_rows, null_rate, {{ max_rate }} as max_rate
from rates
where null_rate > {{ max_rate }}

{% endtest %}
