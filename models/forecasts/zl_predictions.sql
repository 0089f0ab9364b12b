{#- What consumers read: the latest calibrated ZL quantile forecasts, one row per horizon, with prices. -#}
with

final_predictions as (

    select * from {{ ref('ml_final_predictions') }}
    where member = 'final' and fold = -1

),

latest_close as (

    select
        as_of_date,
        zl_close_cents_per_lb

    from {{ ref('daily_ml_matrix_zl') }}

),

final as (

    select
        final_predictions.as_of_date::date as as_of_date,
        final_predictions.horizon::varchar as horizon,
        final_predictions.horizon_days::integer as horizon_days,
        final_predictions.target_date::date as target_date,
        final_predictions.q10::double as q10,
        final_predictions.q50::double as q50,
        final_predictions.q90::double as q90,
        (latest_close.zl_close_cents_per_lb * exp(final_predictions.q10))::double as price_q10,
        (latest_close.zl_close_cents_per_lb * exp(final_predictions.q50))::double as price_q50,
        (latest_close.zl_close_cents_per_lb * exp(final_predictions.q90))::double as price_q90,
        final_predictions.source::varchar as forecast_method,
        final_predictions.model_run_id::varchar as model_run_id,
        final_predictions.trained_at::timestamp as trained_at

    from final_predictions
    inner join latest_close on final_predictions.as_of_date::date = latest_close.as_of_date::date

)

select * from final
