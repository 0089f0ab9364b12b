{#- Window helpers for features on the ZL trading-day calendar. Every rolling statistic is NULL until its
    window is full (no half-window estimates), and log changes are NULL unless both prices are positive. -#}

{% macro trailing_window(days, order_by='as_of_date') -%}
    (order by {{ order_by }} rows between {{ days - 1 }} preceding and current row)
{%- endmacro %}

{% macro rolling(aggregate, expression, days, order_by='as_of_date') -%}
    case
        when count({{ expression }}) over {{ trailing_window(days, order_by) }} = {{ days }}
            then {{ aggregate }}({{ expression }}) over {{ trailing_window(days, order_by) }}
    end
{%- endmacro %}

{% macro rolling_corr(x, y, days, order_by='as_of_date') -%}
    case
        when count({{ x }} + {{ y }}) over {{ trailing_window(days, order_by) }} = {{ days }}
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
