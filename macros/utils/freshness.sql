{#- Source staleness (var `cbi_source_staleness_days`, model `int_calendar__source_freshness`).

    stale_flag_cte(source) is a CTE body: one row per ZL trading day with `is_stale` of `source`.
    unless_stale(expression, flag) is `expression`, or NULL where `flag` is set: an as-of model passes a
    source's values through it so that a stale source's features are NULL, never its last value carried on.
    A source without a tolerance (not in the var) is never stale. -#}

{% macro stale_flag_cte(source) -%}
    select
        as_of_date,
        is_stale
    from {{ ref('int_calendar__source_freshness') }}
    where source_name = '{{ source }}'
{%- endmacro %}

{% macro unless_stale(expression, flag) -%}
    case when not coalesce({{ flag }}, false) then {{ expression }} end
{%- endmacro %}

{#- The dbt sources (by source name) a model reads, through every model upstream of it; the freshness model
    itself is not followed (every as-of model reads it, for all sources). -#}
{% macro cbi_upstream_sources(model_name) -%}
    {%- set found = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == model_name -%}
            {%- do _cbi_collect_sources(node.unique_id, found, []) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(found | unique | sort | list) }}
{%- endmacro %}

{% macro _cbi_collect_sources(unique_id, found, seen) -%}
    {%- if unique_id.startswith('source.') -%}
        {%- do found.append(graph.sources[unique_id].source_name) -%}
    {%- elif unique_id in graph.nodes and unique_id not in seen
             and graph.nodes[unique_id].name != 'int_calendar__source_freshness' -%}
        {%- do seen.append(unique_id) -%}
        {%- for parent in graph.nodes[unique_id].depends_on.nodes -%}
            {%- do _cbi_collect_sources(parent, found, seen) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
