{#- Window helpers for features on the ZL trading-day calendar (optionally partitioned, e.g. by root).
    A rolling statistic is NULL until its window spans `days` rows and while fewer than `min_share` of the
    window's values are present (a root that did not trade for weeks): short gaps are tolerated, long ones are
    not papered over. Log changes are NULL unless both prices are positive. -#}

{% macro _over(partition_by=none, order_by='as_of_date') -%}
    {%- if partition_by %}partition by {{ partition_by }} {% endif %}order by {{ order_by }}
{%- endmacro %}

{% macro trailing_window(days, order_by='as_of_date', partition_by=none) -%}
    ({{ _over(partition_by, order_by) }} rows between {{ days - 1 }} preceding and current row)
{%- endmacro %}

{% macro window_is_usable(expression, days, order_by='as_of_date', min_share=0.8, partition_by=none) -%}
    row_number() over ({{ _over(partition_by, order_by) }}) >= {{ days }}
    and count({{ expression }}) over {{ trailing_window(days, order_by, partition_by) }}
    >= {{ (days * min_share) | round(0, 'ceil') | int }}
{%- endmacro %}

{% macro rolling(aggregate, expression, days, order_by='as_of_date', partition_by=none) -%}
    case
        when {{ window_is_usable(expression, days, order_by, partition_by=partition_by) }}
            then {{ aggregate }}({{ expression }}) over {{ trailing_window(days, order_by, partition_by) }}
    end
{%- endmacro %}

{% macro rolling_corr(x, y, days, order_by='as_of_date', partition_by=none) -%}
    case
        when {{ window_is_usable(x ~ ' + ' ~ y, days, order_by, partition_by=partition_by) }}
            then corr({{ x }}, {{ y }}) over {{ trailing_window(days, order_by, partition_by) }}
    end
{%- endmacro %}

{% macro annualised_vol(returns, days, order_by='as_of_date', partition_by=none) -%}
    {{ rolling('stddev_samp', returns, days, order_by, partition_by) }} * sqrt(252)
{%- endmacro %}

{% macro rolling_zscore(expression, days, order_by='as_of_date', partition_by=none) -%}
    ({{ expression }} - {{ rolling('avg', expression, days, order_by, partition_by) }})
    / nullif({{ rolling('stddev_samp', expression, days, order_by, partition_by) }}, 0)
{%- endmacro %}

{#- Share (0-1) of the trailing window's values at or below today's: a rank that uses only the past. -#}
{% macro rolling_percent_rank(expression, days, order_by='as_of_date', partition_by=none) -%}
    case
        when {{ expression }} is not null and {{ window_is_usable(expression, days, order_by, partition_by=partition_by) }}
            then len(list_filter(
                list({{ expression }}) over {{ trailing_window(days, order_by, partition_by) }},
                lambda v: v <= {{ expression }}
            )) / count({{ expression }}) over {{ trailing_window(days, order_by, partition_by) }}
    end
{%- endmacro %}

{#- Exponentially weighted mean with smoothing `alpha` (pandas `ewm(alpha=..., adjust=True)`), as a weighted
    sum over the last `span_rows` rows; older weights are below (1 - alpha) ** span_rows and dropped. NULL
    inputs must be filled by the caller. Wilder's smoothing of n days is alpha = 1 / n; an n-day EMA is
    alpha = 2 / (n + 1). -#}
{% macro ewm_mean(expression, alpha, order_by='as_of_date', partition_by=none, span_rows=200) -%}
    {%- set weights -%}
        [{% for k in range(span_rows) %}{{ (1 - alpha) ** (span_rows - 1 - k) }}{% if not loop.last %}, {% endif %}{% endfor %}]
    {%- endset -%}
    list_dot_product(
        list({{ expression }}::double) over {{ trailing_window(span_rows, order_by, partition_by) }},
        list_slice({{ weights }}::double[], {{ span_rows + 1 }} - count(*) over {{ trailing_window(span_rows, order_by, partition_by) }}, {{ span_rows }})
    ) / list_sum(
        list_slice({{ weights }}::double[], {{ span_rows + 1 }} - count(*) over {{ trailing_window(span_rows, order_by, partition_by) }}, {{ span_rows }})
    )
{%- endmacro %}

{% macro log_change(expression, days, order_by='as_of_date', partition_by=none) -%}
    case
        when {{ expression }} > 0 and lag({{ expression }}, {{ days }}) over ({{ _over(partition_by, order_by) }}) > 0
            then ln({{ expression }} / lag({{ expression }}, {{ days }}) over ({{ _over(partition_by, order_by) }}))
    end
{%- endmacro %}

{% macro change(expression, days, order_by='as_of_date', partition_by=none) -%}
    {{ expression }} - lag({{ expression }}, {{ days }}) over ({{ _over(partition_by, order_by) }})
{%- endmacro %}

{#- A 0-100 bucket score: the mean of the trailing `days`-day percentile ranks of `expressions` (each already
    oriented so that higher means more supportive for ZL), over those available. Monotone in every input and
    built from past data only. -#}
{% macro bucket_score(expressions, days=252) -%}
    100 * (
        {%- for e in expressions %}
        coalesce({{ rolling_percent_rank(e, days) }}, 0){% if not loop.last %} +{% endif %}
        {%- endfor %}
    ) / nullif(
        {%- for e in expressions %}
        case when {{ rolling_percent_rank(e, days) }} is not null then 1 else 0 end{% if not loop.last %} +{% endif %}
        {%- endfor %}
    , 0)
{%- endmacro %}

{#- Today's value of a sparse count (news articles) over its trailing average: 1 when the average is 0 (a quiet
    week in a quiet month is normal, not missing); NULL only while the window fills or the source is absent. -#}
{% macro count_vs_average(expression, days, order_by='as_of_date') -%}
    case
        when {{ rolling('avg', expression, days, order_by) }} = 0 then 1.0
        else {{ expression }} / {{ rolling('avg', expression, days, order_by) }}
    end
{%- endmacro %}

{#- z-score of a sparse count: 0 when the trailing window holds one value only (no variation, nothing unusual). -#}
{% macro count_zscore(expression, days, order_by='as_of_date') -%}
    case
        when {{ rolling('stddev_samp', expression, days, order_by) }} = 0 then 0.0
        else {{ rolling_zscore(expression, days, order_by) }}
    end
{%- endmacro %}
