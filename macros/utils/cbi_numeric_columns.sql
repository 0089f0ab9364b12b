{#- Names of the numeric columns of a relation, minus `exclude`. Used by the model-level gates. -#}
{% macro cbi_numeric_columns(relation, exclude=[]) %}
    {%- set numeric_types = ['DOUBLE', 'FLOAT', 'REAL', 'DECIMAL', 'INTEGER', 'BIGINT', 'SMALLINT', 'HUGEINT', 'TINYINT'] -%}
    {%- set names = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- set base_type = column.dtype | upper | replace('(', ' ') -%}
            {%- if base_type.split(' ')[0] in numeric_types and column.name not in exclude -%}
                {%- do names.append(column.name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(names) }}
{% endmacro %}
