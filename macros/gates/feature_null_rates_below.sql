{#- Model-level gate: every numeric column not in `exclude` has at most `max_rate` NULLs after the first
    `warmup_rows` rows (ordered by `order_by`) and from its own first value on. Returns one row per failing
    column with its null rate and the rows counted. Before a column's first value its source had not started
    publishing (news archives, RIN prices and export sales begin years after the futures): that is history the
    source does not have, not a gap, and the models treat it as missing. A gap after the first value (a series
    that stopped or lost a stretch) fails. A column with no value at all is an absent source: it is left to
    `features_present`, which warns, so a warehouse loaded with only some sources still builds.
    A source that stopped (stale on the latest day and every day since it went stale, `is_stale_tail` of
    `int_calendar__source_freshness`) leaves a stale tail: for a model that reads it, rows from the tail's
    first day on are not counted (the features are NULL by design there and `stale_sources` alerts). A stale
    stretch the source came back from is counted: that is a gap. -#}
{% test feature_null_rates_below(model, max_rate, warmup_rows=0, order_by='as_of_date', exclude=[]) %}

{%- set columns = cbi_numeric_columns(model, exclude) -%}
{%- set tolerated = var('cbi_source_staleness_days') -%}
{%- set sources = cbi_upstream_sources(model.identifier) | select('in', tolerated) | list -%}

with ordered as (
    select *, row_number() over (order by {{ order_by }}) as _cbi_row_index
    from {{ model }}
),

stale_tail as (
    select min(as_of_date) as first_stale_date
    from {{ ref('int_calendar__source_freshness') }}
    where is_stale_tail and source_name in ('{{ sources | join("', '") }}')
),

after_warmup as materialized (
    select ordered.*
    from ordered, stale_tail
    where
        _cbi_row_index > {{ warmup_rows }}
        {%- if order_by == 'as_of_date' %}
        and (stale_tail.first_stale_date is null or ordered.as_of_date < stale_tail.first_stale_date)
        {%- endif %}
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
