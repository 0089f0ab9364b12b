{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['as_of_date', 'root'],
        on_schema_change='fail',
    )
}}
{#- Per-symbol technical indicators for the roots of `cbi_technical_roots`, one row per root and ZL trading
    day on which the root has a known price. All are scale-free functions of the back-adjusted series, so a
    later roll (which rescales the past) changes none of them.
    Incremental: a normal run writes the last `cbi_incremental_lookback_days` days; it computes them over the
    whole history, as `--full-refresh` does, so both give the same values to the last bit (a window aggregate's
    rounding depends on where its partition starts: a shorter input would move values by ~1e-16). -#}
{%- set roots = var('cbi_technical_roots') -%}
{%- set root_list = "'" ~ roots | join("', '") ~ "'" -%}
with

aligned as (

    select * from {{ ref('int_futures__aligned_long') }}
    where close_adj is not null and root in ({{ root_list }})

),

moves as (

    select
        *,
        coalesce(close_adj - lag(close_adj) over (partition by root order by as_of_date), 0) as close_change,
        -- up/down/flat for on-balance volume: moves below 1e-10 of the price are float noise, not a direction
        case
            when abs(close_adj - lag(close_adj) over (partition by root order by as_of_date)) < 1e-10 * close_adj
                then 0
            else coalesce(sign(close_adj - lag(close_adj) over (partition by root order by as_of_date)), 0)
        end as price_direction,
        greatest(
            high_adj - low_adj,
            abs(high_adj - lag(close_adj) over (partition by root order by as_of_date)),
            abs(low_adj - lag(close_adj) over (partition by root order by as_of_date))
        ) as true_range

    from aligned

),

smoothed as (

    select
        *,
        {{ ewm_mean('greatest(close_change, 0)', 1 / 14, partition_by='root') }} as avg_gain_14,
        {{ ewm_mean('greatest(-close_change, 0)', 1 / 14, partition_by='root') }} as avg_loss_14,
        {{ ewm_mean('close_adj', 2 / 13, partition_by='root') }} as ema_12,
        {{ ewm_mean('close_adj', 2 / 27, partition_by='root') }} as ema_26,
        {{ ewm_mean('coalesce(true_range, high_adj - low_adj)', 1 / 14, partition_by='root') }} as atr_14,
        {{ rolling('avg', 'close_adj', 20, partition_by='root') }} as sma_20,
        {{ rolling('stddev_samp', 'close_adj', 20, partition_by='root') }} as sd_20,
        {{ rolling('min', 'low_adj', 14, partition_by='root') }} as low_14,
        {{ rolling('max', 'high_adj', 14, partition_by='root') }} as high_14,
        row_number() over (partition by root order by as_of_date) as row_index

    from moves

),

macd as (

    select
        *,
        (ema_12 - ema_26) / nullif(ema_26, 0) as macd_pct,
        -- clamped: float rounding of adjusted prices can put the close a hair outside [low, high]
        least(greatest(100 * (close_adj - low_14) / nullif(high_14 - low_14, 0), 0), 100) as stoch_k_14

    from smoothed

),

indicators as (

    select
        as_of_date,
        root,
        {{ log_change('close_adj', 1, partition_by='root') }} as ret_1d,
        {{ log_change('close_adj', 5, partition_by='root') }} as ret_5d,
        {{ log_change('close_adj', 21, partition_by='root') }} as ret_21d,
        {{ log_change('close_adj', 63, partition_by='root') }} as ret_63d,
        {%- for n in [5, 10, 21, 50, 200] %}
            close_adj / nullif({{ rolling('avg', 'close_adj', n, partition_by='root') }}, 0) - 1 as sma_{{ n }}_ratio,
        {%- endfor %}
        case
            when row_index >= 15 then
                case when avg_loss_14 = 0 then 100 else 100 - 100 / (1 + avg_gain_14 / avg_loss_14) end
        end as rsi_14,
        case when row_index >= 26 then macd_pct end as macd_pct,
        case
            when row_index >= 35 then {{ ewm_mean('macd_pct', 2 / 10, partition_by='root') }}
        end as macd_signal_pct,
        case
            when row_index >= 35 then macd_pct - {{ ewm_mean('macd_pct', 2 / 10, partition_by='root') }}
        end as macd_hist_pct,
        (close_adj - sma_20) / nullif(2 * sd_20, 0) as bb_position_20,
        4 * sd_20 / nullif(sma_20, 0) as bb_width_20,
        case when row_index >= 14 then atr_14 / nullif(close_adj, 0) end as atr_14_pct,
        stoch_k_14,
        {{ rolling('avg', 'stoch_k_14', 3, partition_by='root') }} as stoch_d_3,
        {%- for n in [10, 21, 63] %}
            close_adj / nullif(lag(close_adj, {{ n }}) over (partition by root order by as_of_date), 0)
            - 1 as roc_{{ n }},
        {%- endfor %}
        {{ rolling_zscore('volume_contracts', 21, partition_by='root') }} as volume_z_21,
        {{ rolling('sum', 'price_direction * volume_contracts', 21, partition_by='root') }}
        / nullif({{ rolling('sum', 'volume_contracts', 21, partition_by='root') }}, 0) as obv_change_21

    from macd

)

-- noqa: disable=all
select * from indicators
{%- if is_incremental() %}
where as_of_date > (select max(as_of_date) - interval {{ var('cbi_incremental_lookback_days') }} day from {{ this }})
{%- endif %}
-- noqa: enable=all
