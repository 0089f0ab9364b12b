{#- Rows where the listed quantile columns are not in non-decreasing order (crossing quantiles). -#}
{% test quantiles_ordered(model, quantile_columns) %}

select *
from {{ model }}
where
{%- for i in range(quantile_columns | length - 1) %}
    {{ quantile_columns[i] }} > {{ quantile_columns[i + 1] }}{% if not loop.last %} or{% endif %}
{%- endfor %}

{% endtest %}
