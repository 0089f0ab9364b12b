{#- Fails when the model has `min_rows` rows or fewer. -#}
{% test row_count_above(model, min_rows) %}

select n_rows, {{ min_rows }} as min_rows
from (select count(*) as n_rows from {{ model }}) as counted
where n_rows <= {{ min_rows }}

{% endtest %}
