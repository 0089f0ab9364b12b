{#- Rows where `column_name` does not match the regular expression `pattern` (whole value; NULLs left to
    not_null). -#}
{% test matches_pattern(model, column_name, pattern) %}

select *
from {{ model }}
where not regexp_full_match({{ column_name }}, '{{ pattern }}')

{% endtest %}
