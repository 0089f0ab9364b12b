{#- Model-level gate: every numeric column not in `exclude` has at most `max_rate` NULLs after the first
    `warmup_rows` rows (ordered by `order_by`) and from its own first value on. Returns one row per failing
    column with its null rate and the rows counted. Before a column's first value its source had not started
    publishing (news archives, RIN prices and export sales begin years after the futures): that is history the
    source does not have, not a gap, and the models treat it as missing. A gap after the first value (a series
    that stopped or lost a stretch) fails. A column with no value at all is an absent source: it is left to
    `features_present`, which warns, so a warehouse loaded with only some sources still builds. -#}
{% test feature_null_rates_below(model, max_rate, warmup_rows=0, order_by='as_of_date', exclude=[]) %}

{%- set columns = cbi_numeric_columns(model, exclude) -%}

with ordered as (
    select *, row_number() over (order by {{ order_by }}) as _cbi_row_index
    from {{ model }}
),

after_warmup as materialized (
    select * from ordered where _cbi_row_index > {{ warmup_rows }}
),

first_values as (
    {#- the row of each column's first value (one pass) -#}
    select
        {%- for column in columns %}
        min(case when {{ adapter.quote(column) }} is not null then _cbi_row_index end) as first_{{ loop.index }},
        {%- endfor %}
        0 as _cbi_none
    from after_warmup
),

rates as (
    {%- for column in columns %}
    select
        '{{ column }}' as column_name,
        count(*) as n_rows,
        avg(case when {{ adapter.quote(column) }} is null then 1.0 else 0.0 end) as null_rate,
        count({{ adapter.quote(column) }}) as n_values
    from after_warmup, first_values
    where _cbi_row_index >= first_values.first_{{ loop.index }}
    {%- if not loop.last %} union all {% endif %}
    {%- endfor %}
    {%- if columns | length == 0 %}
    select null::varchar as column_name, 0 as n_rows, 0.0 as null_rate, 0 as n_values where false
    {%- endif %}
)

select column_name, n_rows, null_rate, {{ max_rate }} as max_rate
from rates
where null_rate > {{ max_rate }} and n_values > 0

{% endtest %}
