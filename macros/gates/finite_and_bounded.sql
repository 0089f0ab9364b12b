{#- Model-level gate: no numeric column holds NaN, +/-Inf or a value with |value| >= `bound`.
    Returns one row per offending cell (key column, column name, value). -#}
{% test finite_and_bounded(model, key_column='as_of_date', bound=1e10, exclude=[]) %}

{%- set columns = cbi_numeric_columns(model, exclude + [key_column]) -%}

{%- for column in columns %}
select
    {{ key_column }}::varchar as row_key,
    '{{ column }}' as column_name,
    {{ adapter.quote(column) }}::double as bad_value
from {{ model }}
where isnan({{ adapter.quote(column) }}::double)
    or isinf({{ adapter.quote(column) }}::double)
    or abs({{ adapter.quote(column) }}::double) >= {{ bound }}
{%- if not loop.last %} union all {% endif %}
{%- endfor %}
{%- if columns | length == 0 %}
select null::varchar as row_key, null::varchar as column_name, null::double as bad_value where false
{%- endif %}

{% endtest %}
