{#- Rows where `column_name` is zero or negative (NULLs are left to the null-rate gates). -#}
{% test positive_values(model, column_name) %}

select *
from {{ model }}
where {{ column_name }} <= 0

{% endtest %}
