{#- Lists numeric columns (not in `exclude`) that hold no value at all after the first `warmup_rows` rows:
    features whose source is not loaded. Meant for severity `warn`: a missing source is reported on every
    build, and its features are simply absent for the models. -#}
{% test features_present(model, warmup_rows=0, order_by='as_of_date', exclude=[]) %}

{%- set columns = cbi_numeric_columns(model, exclude) -%}

with ordered as (
    select *, row_number() over (order by {{ order_by }}) as _cbi_row_index
    from {{ model }}
),

counts as (
    {%- for column in columns %}
    select '{{ column }}' as column_name, count({{ adapter.quote(column) }}) as n_values
    from ordered
    where _cbi_row_index > {{ warmup_rows }}
    {%- if not loop.last %} union all {% endif %}
    {%- endfor %}
    {%- if columns | length == 0 %}
    select null::varchar as column_name, 0 as n_values where false
    {%- endif %}
)

select column_name from counts where n_values = 0

{% endtest %}
