{#- Model-level gate: every numeric column not in `exclude` has at most `max_rate` NULLs after the first
    `warmup_rows` rows (ordered by `order_by`). Returns one row per failing column with its null rate.
    A column with no value at all is an absent source, not a gap: it is left to `features_present`, which
    warns, so a warehouse loaded with only some sources still builds. -#}
{% test feature_null_rates_below(model, max_rate, warmup_rows=0, order_by='as_of_date', exclude=[]) %}

{%- set columns = cbi_numeric_columns(model, exclude) -%}

with ordered as (
    select *, row_number() over (order by {{ order_by }}) as _cbi_row_index
    from {{ model }}
),

after_warmup as (
    select * from ordered where _cbi_row_index > {{ warmup_rows }}
),

rates as (
    {%- for column in columns %}
    select
        '{{ column }}' as column_name,
        avg(case when {{ adapter.quote(column) }} is null then 1.0 else 0.0 end) as null_rate,
        count({{ adapter.quote(column) }}) as n_values
    from after_warmup
    {%- if not loop.last %} union all {% endif %}
    {%- endfor %}
    {%- if columns | length == 0 %}
    select null::varchar as column_name, 0.0 as null_rate, 0 as n_values where false
    {%- endif %}
)

select column_name, null_rate, {{ max_rate }} as max_rate
from rates
where null_rate > {{ max_rate }} and n_values > 0

{% endtest %}
