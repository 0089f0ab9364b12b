{#- Per-symbol technicals, one row per ZL trading day: every indicator of `int_futures__technicals` for every
    root of `cbi_technical_roots`, as `<prefix>_<indicator>` (ZL's one-day return is in core_macro_fx). -#}
{%- set prefixes = var('cbi_futures_roots') -%}
{%- set indicators = ['ret_1d', 'ret_5d', 'ret_21d', 'ret_63d', 'sma_5_ratio', 'sma_10_ratio', 'sma_21_ratio',
                      'sma_50_ratio', 'sma_200_ratio', 'rsi_14', 'macd_pct', 'macd_signal_pct', 'macd_hist_pct',
                      'bb_position_20', 'bb_width_20', 'atr_14_pct', 'stoch_k_14', 'stoch_d_3', 'roc_10', 'roc_21',
                      'roc_63', 'volume_z_21', 'obv_change_21'] -%}
with

calendar as (

    select * from {{ ref('int_calendar__zl_trading_days') }}

),

technicals as (

    select * from {{ ref('int_futures__technicals') }}

),

pivoted as (

    select
        calendar.as_of_date,
        {%- for root in var('cbi_technical_roots') %}
            {%- set outer_loop = loop %}
            {%- for indicator in indicators if not (root == 'ZL' and indicator == 'ret_1d') %}
                max(technicals.{{ indicator }}) filter (where technicals.root = '{{ root }}')
                    as {{ prefixes[root] }}_{{ indicator }}{% if not (outer_loop.last and loop.last) %},{% endif %}
            {%- endfor %}
        {%- endfor %}

    from calendar
    left join technicals on calendar.as_of_date = technicals.as_of_date
    group by calendar.as_of_date

)

select * from pivoted
