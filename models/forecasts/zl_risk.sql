{#- Value at risk and expected shortfall of a ZL position over each horizon, from the Monte Carlo draws of
    ml_risk: as log-return losses, price levels (cents/lb) and USD per contract (60,000 lb; 1 cent/lb = $600). -#}
with

risk as (

    select * from {{ ref('ml_risk') }}

),

final as (

    select
        as_of_date::date as as_of_date,
        horizon::varchar as horizon,
        horizon_days::integer as horizon_days,
        n_draws::integer as n_draws,
        close_cents_per_lb::double as close_cents_per_lb,
        var_95_ret::double as var_95_ret,
        cvar_95_ret::double as cvar_95_ret,
        var_99_ret::double as var_99_ret,
        cvar_99_ret::double as cvar_99_ret,
        var_95_price::double as var_95_price,
        cvar_95_price::double as cvar_95_price,
        var_99_price::double as var_99_price,
        cvar_99_price::double as cvar_99_price,
        var_95_usd_per_contract::double as var_95_usd_per_contract,
        cvar_95_usd_per_contract::double as cvar_95_usd_per_contract,
        var_99_usd_per_contract::double as var_99_usd_per_contract,
        cvar_99_usd_per_contract::double as cvar_99_usd_per_contract,
        model_run_id::varchar as model_run_id

    from risk

)

select * from final
