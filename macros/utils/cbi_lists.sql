{#- What CBI forecasts, as declared once in dbt_project.yml (vars cbi_horizons, cbi_quantile_levels, cbi_buckets).
    SQL and YAML derive every list from these macros; Python derives the same from cbi_ml.config. (The L0 members
    are code: their registry is cbi_ml.members.registry; no SQL lists them.) -#}

{% macro cbi_horizon_labels() -%}
    {{ return(var('cbi_horizons').keys() | list) }}
{%- endmacro %}

{% macro cbi_buckets(news_only=false) -%}
    {#- Feature buckets in matrix column order; with news_only, those the news intensity features cover. -#}
    {%- set names = [] -%}
    {%- for name, spec in var('cbi_buckets').items() if not news_only or spec['news'] -%}
        {%- do names.append(name) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}

{% macro cbi_quantile_columns(prefix='q') -%}
    {#- Column names of the quantile levels: 0.1 -> q10 (prefix 'q'), p10 (prefix 'p'), ... -#}
    {%- set names = [] -%}
    {%- for level in var('cbi_quantile_levels') -%}
        {%- do names.append(prefix ~ '%02d' % ((level * 100) | round | int)) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}

{% macro cbi_target_columns() -%}
    {#- The training matrix's targets, target_ret_<days>d per horizon. -#}
    {%- set names = [] -%}
    {%- for label, days in var('cbi_horizons').items() -%}
        {%- do names.append('target_ret_' ~ days ~ 'd') -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}

{% macro cbi_stale_flag_columns() -%}
    {#- The training matrix's staleness flags, is_<source>_stale per source of `cbi_source_staleness_days`. -#}
    {%- set names = [] -%}
    {%- for source in var('cbi_source_staleness_days') -%}
        {%- do names.append('is_' ~ source ~ '_stale') -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}
