{#- A sample (cbi_ml.mc_scenarios_kept per horizon) of the Monte Carlo scenarios behind zl_risk. -#}
with

scenarios as (

    select * from {{ ref('ml_monte_carlo_scenarios') }}

),

final as (

    select
        as_of_date::date as as_of_date,
        horizon::varchar as horizon,
        horizon_days::integer as horizon_days,
        scenario::integer as scenario,
        log_return::double as log_return,
        price_cents_per_lb::double as price_cents_per_lb

    from scenarios

)

select * from final
