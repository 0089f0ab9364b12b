{#- Window helpers for features on the ZL trading-day calendar. A rolling statistic is NULL until its window
    spans `days` rows, and while fewer than `min_share` of the window's values are present (a root that did
    not trade for weeks): short gaps are tolerated, long ones are not papered over. Log changes are NULL
    unless both prices are positive. -#}

{% macro trailing_window(days, order_by='as_of_date') -%}
    (order by {{ order_by }} rows between {{ days - 1 }} preceding and current row)
{%- endmacro %}

{% macro window_is_usable(expression, days, order_by='as_of_date', min_share=0.8) -%}
    row_number() over (order by {{ order_by }}) >= {{ days }}
    and count({{ expression }}) over {{ trailing_window(days, order_by) }} >= {{ (days * min_share) | round(0, 'ceil') | int }}
{%- endmacro %}

{% macro rolling(aggregate, expression, days, order_by='as_of_date') -%}
    case
        when {{ window_is_usable(expression, days, order_by) }}
            then {{ aggregate }}({{ expression }}) over {{ trailing_window(days, order_by) }}
    end
{%- endmacro %}

{% macro rolling_corr(x, y, days, order_by='as_of_date') -%}
    case
        when {{ window_is_usable(x ~ ' + ' ~ y, days, order_by) }}
            then corr({{ x }}, {{ y }}) over {{ trailing_window(days, order_by) }}
    end
{%- endmacro %}

{% macro annualised_vol(returns, days, order_by='as_of_date') -%}
    {{ rolling('stddev_samp', returns, days, order_by) }} * sqrt(252)
{%- endmacro %}

{% macro log_change(expression, days, order_by='as_of_date') -%}
    case
        when {{ expression }} > 0 and lag({{ expression }}, {{ days }}) over (order by {{ order_by }}) > 0
            then ln({{ expression }} / lag({{ expression }}, {{ days }}) over (order by {{ order_by }}))
    end
{%- endmacro %}

{% macro change(expression, days, order_by='as_of_date') -%}
    {{ expression }} - lag({{ expression }}, {{ days }}) over (order by {{ order_by }})
{%- endmacro %}
