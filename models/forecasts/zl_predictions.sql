{#- What consumers read: the latest ZL quantile forecasts, one row per horizon, with an enforced contract. -#}
with

main_predictor as (

    select * from {{ ref('ml_main_predictor') }}

),

final as (

    select
        as_of_date::date as as_of_date,
        horizon::varchar as horizon,
        horizon_days::integer as horizon_days,
        target_date::date as target_date,
        q10::double as q10,
        q50::double as q50,
        q90::double as q90,
        price_q10::double as price_q10,
        price_q50::double as price_q50,
        price_q90::double as price_q90,
        model_run_id::varchar as model_run_id,
        trained_at::timestamp as trained_at

    from main_predictor

)

select * from final
