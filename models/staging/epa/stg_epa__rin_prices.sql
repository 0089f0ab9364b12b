with

source as (

    select * from {{ source('epa', 'epa_rin_prices') }}

),

renamed as (

    select
        upper(rin_type)::varchar as rin_type,
        week_ending_date::date as week_ending_date,
        price_usd_per_rin::double as price_usd_per_rin,
        available_at::timestamp as available_at,
        _loaded_at::timestamp as loaded_at,
        _run_id as ingest_run_id

    from source

)

select * from renamed
